"""Durations and sizes as written in the configuration (DESIGN §3.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.core.units import format_duration, parse_duration, parse_size


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        (" 15 m ", timedelta(minutes=15)),
        ("0s", timedelta(0)),
        (45, timedelta(seconds=45)),  # a bare YAML number is seconds
        (timedelta(hours=3), timedelta(hours=3)),
    ],
)
def test_parse_duration(value: object, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(
    "value",
    ["10 minutes", "1.5h", "10M", "h", "", "-5m", "5w", True, 2.5, None, [], -5],
)
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("512KB", 512 * 1024),
        ("10MB", 10 * 1024 * 1024),
        ("1GB", 1024**3),
        ("10mb", 10 * 1024 * 1024),
        ("100B", 100),
        ("2048", 2048),
        (4096, 4096),
        (" 3 kb ", 3 * 1024),
    ],
)
def test_parse_size(value: object, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["10 MiB", "1.5MB", "MB", "", "10TB", False, 1.0, None, -1])
def test_parse_size_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=30), "30s"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=10), "10m"),
        (timedelta(hours=2), "2h"),
        (timedelta(days=1), "1d"),
        (timedelta(hours=36), "36h"),
        (timedelta(0), "0s"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value  # what is printed reads back the same
