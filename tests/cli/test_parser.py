"""The command line's grammar (monitor.cli.parser): options before or after the command, and
values checked as they are parsed, with a message naming the value."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.cli.parser import build_parser


def test_the_configuration_is_named_before_or_after_the_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["-c", "a.yaml", "check"]).config == "a.yaml"
    assert parser.parse_args(["check", "-c", "b.yaml"]).config == "b.yaml"
    # the command's own -c, not given, does not undo the one before it
    assert parser.parse_args(["-c", "a.yaml", "status"]).config == "a.yaml"
    assert parser.parse_args(["check"]).config is None


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["status", "--limit", "0"], "'0' is not a whole number of 1 or more"),
        (["status", "--limit", "ten"], "'ten' is not a whole number of 1 or more"),
        (["demo", "--every", "0.5"], "'0.5' is shorter than 1s"),
        (["demo", "--every", "0"], "'0' is not longer than 0s"),
        (["test-rule", "--backtest", "soon"], "--backtest"),
    ],
)
def test_a_bad_value_is_refused_by_name(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == 2
    assert said in capsys.readouterr().err


def test_durations_and_seconds_take_units() -> None:
    parser = build_parser()
    assert parser.parse_args(["test-rule", "--backtest", "7d"]).backtest == timedelta(days=7)
    assert parser.parse_args(["demo", "--every", "2m"]).every == 120.0
    assert parser.parse_args(["demo", "--every", "2.5"]).every == 2.5
