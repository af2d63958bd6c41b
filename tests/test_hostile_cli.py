"""Bad command-line input is one line of reason and exit 2: never a traceback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_exports.cli import main
from tui_exports.cli.commands import build_parser

BIG = str(2**63)
HUGE = "9" * 5000
NASTY = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=16),
    st.sampled_from([BIG, HUGE, "١", "١٢", "²", "nan", "inf", "-inf", "-1", "0", "1e400", "99999", "1_0"]),
)


def run(argv, capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse: usage and one line of reason
        code = e.code
    err = capsys.readouterr().err
    return code, err


@pytest.fixture
def quiet_worker(monkeypatch):
    """Queued jobs stay queued: no background worker is started by these tests."""
    import tui_exports.backends.local as local

    monkeypatch.setattr(local, "ensure_worker", lambda home: False)


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "1", BIG],
        ["show", BIG, "1"],
        ["exports", "1", "--page", "100000000000000000000"],
        ["exports", "1", "--per-page", HUGE],
        ["progress", BIG],
        ["cancel", BIG],
        ["epub", BIG],
        ["content", BIG],
        ["content", "١"],
        ["export", "--group", BIG, "--type", "zip"],
        ["export", "1", "--type", "common_cartridge", "--select", f"pages={HUGE}"],
        ["export", "1", "--type", "common_cartridge", "--select", f"pages={BIG}"],
        ["export", "1", "--type", "common_cartridge", "--select", "pages=١٢"],
        ["library", "generate", "--file-mb", "nan"],
        ["library", "generate", "--file-mb", "inf"],
        ["library", "generate", "--files", HUGE],
        ["serve", "--port", "99999"],
        ["serve", "--port", "-1"],
    ],
)
def test_bad_arguments_exit_2_with_a_reason(home, capsys, quiet_worker, argv):
    code, err = run(argv, capsys)
    assert code == 2, err
    assert "Traceback" not in err and "error: " in err


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.sampled_from(
        [
            ["show", "{x}", "{x}"],
            ["progress", "{x}"],
            ["exports", "1", "--page", "{x}", "--per-page", "{x}"],
            ["content", "{x}"],
            ["export", "1", "--type", "common_cartridge", "--select", "pages={x}"],
            ["export", "1", "--type", "zip", "--select", "{x}"],
            ["export", "--user", "{x}", "--type", "zip"],
        ]
    ),
    x=NASTY,
)
def test_no_argument_gets_a_traceback(home, capsys, quiet_worker, shape, x):
    argv = [part.replace("{x}", x) for part in shape]
    code, err = run(argv, capsys)  # an exception out of main fails the test
    assert code in (0, 1, 2), err
    assert "Traceback" not in err


@given(
    argv=st.lists(NASTY, max_size=4).flatmap(
        lambda rest: st.sampled_from(
            [["library", "generate", "--file-mb"], ["library", "generate", "--pages"], ["serve", "--port"]]
        ).map(lambda head: [*head, *rest[:1]])
    )
)
def test_the_parser_parses_or_exits_2(argv):
    try:
        build_parser().parse_args(argv)
    except SystemExit as e:
        assert e.code == 2
