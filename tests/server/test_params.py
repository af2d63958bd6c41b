import pytest

from tui_exports.server.params import ParamError, nest, split_key


def test_split_key():
    assert split_key("select[pages][]") == ["select", "pages", ""]
    assert split_key("export_type") == ["export_type"]
    for malformed in ("a[b", "a]b[", "select[pages", "select]pages[", "select[pages]x"):
        with pytest.raises(ParamError, match="brackets do not pair up"):
            split_key(malformed)  # refused: never read as some other name


def test_canvasapi_wire_example():
    pairs = [
        ("skip_notifications", "true"),
        ("select[pages][]", "1"),
        ("select[pages][]", "2"),
        ("select[files][]", "f3"),
        ("select[modules][]", "7"),
        ("export_type", "common_cartridge"),
    ]
    assert nest(pairs) == {
        "skip_notifications": "true",
        "select": {"pages": ["1", "2"], "files": ["f3"], "modules": ["7"]},
        "export_type": "common_cartridge",
    }


def test_nested_hash_and_scalars():
    pairs = [
        ("select[all_pages]", "1"),
        ("select[context_modules][module_12]", "1"),
        ("select[context_modules][module_13]", "0"),
    ]
    assert nest(pairs) == {
        "select": {"all_pages": "1", "context_modules": {"module_12": "1", "module_13": "0"}}
    }


def test_repeated_scalar_keeps_last():
    assert nest([("per_page", "2"), ("per_page", "100")]) == {"per_page": "100"}


def test_list_of_hashes_starts_new_hash_on_repeat():
    pairs = [("a[][b]", "1"), ("a[][c]", "2"), ("a[][b]", "3")]
    assert nest(pairs) == {"a": [{"b": "1", "c": "2"}, {"b": "3"}]}
    assert nest([("a[][b][]", "1"), ("a[][b][]", "2")]) == {"a": [{"b": ["1", "2"]}]}


@pytest.mark.parametrize(
    "pairs",
    [
        [("a", "1"), ("a[b]", "2")],
        [("a[b]", "1"), ("a", "2")],
        [("a[]", "1"), ("a[b]", "2")],
        [("a[b]", "1"), ("a[]", "2")],
        [("a[][]", "1")],
        [("a" + "[x]" * 40, "1")],
    ],
)
def test_conflicts_are_errors(pairs):
    with pytest.raises(ParamError):
        nest(pairs)


def test_empty_values_kept():
    assert nest([("a", ""), ("b[]", "")]) == {"a": "", "b": [""]}


def test_page_params_as_canvas_reads_them():
    from tui_exports.server.params import InvalidPage, page_params

    assert page_params({}) == (1, 10)
    assert page_params({"per_page": "abc"}) == (1, 1)
    assert page_params({"per_page": "", "page": ""}) == (1, 1)
    assert page_params({"per_page": "7x", "page": "3"}) == (3, 7)
    assert page_params({"per_page": "-5"}) == (1, 1)
    assert page_params({"per_page": "1000"}) == (1, 100)
    for bad in ("0", "-1", "abc", "2.0", ["1"]):
        with pytest.raises(InvalidPage):
            page_params({"page": bad})
