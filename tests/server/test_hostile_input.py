"""Bad input gets a 400 or 404 with a Canvas error body: never a 500, never a traceback."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_exports.server.params import ParamError, nest, page_params, parse_id

BIG = str(2**63)
HUGE = "9" * 5000


@pytest.fixture
def lenient(client):
    """The app's answer to anything, a 500 included (not raised into the test)."""
    from starlette.testclient import TestClient

    with TestClient(client.app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/courses/{BIG}",
        f"/api/v1/courses/{BIG}/content_exports",
        f"/api/v1/courses/1/content_exports/{BIG}",
        f"/api/v1/progress/{BIG}",
        f"/api/v1/progress/{HUGE}",
        f"/api/v1/files/{BIG}",
        f"/api/v1/groups/{BIG}",
        f"/api/v1/users/{BIG}",
        f"/api/v1/users/{HUGE}",
        f"/api/v1/courses/1/epub_exports/{BIG}",
        f"/api/v1/courses/{BIG}/content_list",
        f"/api/v1/courses/{BIG}/groups",
        f"/api/v1/courses/1/files/{BIG}",
        f"/api/v1/courses/{BIG}/folders",
        f"/files/{BIG}/download",
        f"/files/{HUGE}/download",
        "/api/v1/courses/١/content_exports",  # Arabic-Indic one: not an id
        "/api/v1/users/²/content_exports",
        "/api/v1/courses/1/content_exports?page=100000000000000000000",
        "/api/v1/courses/1/content_exports?page=١",
    ],
)
@pytest.mark.slow
def test_ids_and_pages_out_of_range_are_404(lenient, auth, url):
    r = lenient.get(url, headers=auth())
    assert r.status_code == 404, r.text
    assert r.json()["errors"]


@pytest.mark.parametrize("query", ["type[]=x", "type[a]=x"])
def test_content_list_type_that_is_not_a_string_is_400(lenient, auth, query):
    r = lenient.get(f"/api/v1/courses/1/content_list?{query}", headers=auth())
    assert r.status_code == 400 and r.json()["errors"]


def test_a_json_body_nested_100k_deep_is_400(lenient, auth):
    body = "[" * 100_000 + "]" * 100_000
    r = lenient.post(
        "/api/v1/courses/1/content_exports",
        content=body,
        headers={**auth(), "content-type": "application/json"},
    )
    assert r.status_code == 400 and "nested too deeply" in r.json()["message"]


@pytest.mark.parametrize(
    "data",
    [
        {"export_type": "common_cartridge", "select[pages": "1"},
        {"export_type": "common_cartridge", "select]pages[": "1"},
        {"export_type": "common_cartridge", "select[pages][]": "١٢"},
        {"export_type": "common_cartridge", "select[pages][]": BIG},
        {"export_type": "common_cartridge", "select[pages][]": HUGE},
    ],
)
def test_a_select_the_parser_does_not_understand_queues_nothing(lenient, auth, service, data):
    r = lenient.post("/api/v1/courses/1/content_exports", data=data, headers=auth())
    assert r.status_code == 400, r.text
    assert r.json()["errors"]
    assert not service.store.unfinished("content", ["created"])


def test_a_json_select_with_an_id_past_64_bits_is_400(lenient, auth):
    body = json.dumps({"export_type": "common_cartridge", "select": {"pages": [2**70]}})
    r = lenient.post(
        "/api/v1/courses/1/content_exports",
        content=body,
        headers={**auth(), "content-type": "application/json"},
    )
    assert r.status_code == 400, r.text


# ------------------------------------------------------------------ fuzzing the parameter parser
_KEYS = st.text(alphabet=st.sampled_from("select[]pages_all0123456789١²x= &"), max_size=24)
_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from([BIG, HUGE, "١٢", "nan", "-1", "0", "1e400", "", "9" * 40]),
)


@given(st.lists(st.tuples(_KEYS, _VALUES), max_size=8))
def test_nest_either_nests_or_says_why(pairs):
    try:
        out = nest(pairs)
    except ParamError as e:
        assert str(e)
    else:
        assert isinstance(out, dict)


@given(st.one_of(st.text(max_size=30), st.integers(), st.sampled_from([BIG, HUGE, "١", "²"])))
def test_ids_are_ascii_digits_that_fit(value):
    n = parse_id(value)
    assert n is None or (0 < n < 2**63)
    if isinstance(value, str) and n is not None:
        assert value.isascii() and value.isdigit()


@given(st.dictionaries(st.sampled_from(["page", "per_page"]), _VALUES))
def test_page_params_give_a_page_or_a_404(params):
    try:
        page, per_page = page_params(params)
    except ValueError:  # InvalidPage
        return
    assert 1 <= page < 2**31 and 1 <= per_page <= 100


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(
        [
            "/api/v1/courses/{x}",
            "/api/v1/courses/1/content_exports?page={x}&per_page={x}",
            "/api/v1/courses/{x}/content_exports/{x}",
            "/api/v1/progress/{x}",
            "/api/v1/courses/1/content_list?type={x}",
            "/api/v1/users/{x}/content_exports",
            "/files/{x}/download?verifier={x}",
        ]
    ),
    x=st.one_of(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12), _VALUES),
    body=st.lists(st.tuples(_KEYS, _VALUES), max_size=6),
)
def test_no_request_gets_a_500(lenient, auth, path, x, body):
    from urllib.parse import quote, urlencode

    url = path.replace("{x}", quote(x, safe=""))
    assert lenient.get(url, headers=auth()).status_code < 500
    r = lenient.post(
        "/api/v1/courses/1/content_exports",
        content=urlencode([("export_type", "common_cartridge"), *body]),
        headers={**auth(), "content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code < 500, (body, r.text)
