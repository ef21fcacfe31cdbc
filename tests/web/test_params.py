"""Whole-number parameters (monitor.web.params): only ASCII digits, which ``int`` reads;
``str.isdigit`` also takes ``²``, which ``int`` refuses (a 500 before)."""

from __future__ import annotations

import pytest

from monitor.web.params import BadParameter, digits, limit_of


@pytest.mark.parametrize(
    ("text", "whole"),
    [("0", True), ("12", True), ("²", False), ("٣", False), ("１", False), ("", False),
     ("-1", False), ("1.5", False), (" 1", False)],
)  # fmt: skip
def test_digits_are_ascii_digits(text: str, whole: bool) -> None:
    assert digits(text) is whole


def test_a_limit_is_a_whole_number_in_range() -> None:
    assert limit_of(None, 50, 200) == 50 and limit_of("200", 50, 200) == 200
    for text in ("0", "201", "²", "1e3", "9" * 40):
        with pytest.raises(BadParameter, match="limit: a whole number from 1 to 200"):
            limit_of(text, 50, 200)
