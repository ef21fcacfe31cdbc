"""Value types the configuration's models share: durations, sizes, intervals, http URLs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from yarl import URL

from monitor.core.units import parse_duration, parse_size
from monitor.net.options import DIRECT, parse_proxy


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


def _interval(value: timedelta) -> timedelta:
    if value < MIN_INTERVAL:
        raise ValueError(f"a poll interval must be at least {MIN_INTERVAL.seconds}s")
    return value


def _positive_size(value: int) -> int:
    if value <= 0:
        raise ValueError("must be larger than 0")
    return value


MIN_INTERVAL = timedelta(seconds=10)
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Timeout = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
Interval = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_interval)]
Size = Annotated[int, BeforeValidator(parse_size), AfterValidator(_positive_size)]


# a backslash or a C0 control character: one search, not a test of each character (issue 25:
# 100,000 sources' URLs were checked character by character, a third of `monitor check`)
_UNSAFE = re.compile(r"[\x00-\x1f\\]")


# http(s), a host of ASCII letters, digits, dots and dashes, a port below 10,000, then printable
# ASCII: what yarl always reads as http(s) with that host (nothing of it to refuse or decode),
# so not parsed again (a third of the cost of checking 100,000 sources); any other is
_PLAIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{0,4})?(?:[/?#][!-~]*)?")


def check_http_url(value: str) -> str:
    """An absolute http(s) URL that yarl and the standard library read the same way."""
    if _UNSAFE.search(value):
        raise ValueError("URL contains a backslash or a control character")
    if _PLAIN.fullmatch(value):
        return value
    try:
        url = URL(value)
    except IndexError:  # yarl 1.25 on brackets before an empty host ("http://a[b]@"): a crash
        raise ValueError("brackets outside an IPv6 address (http://[::1]/)") from None
    if url.scheme not in ("http", "https") or not url.host:
        # the URL itself is not echoed: webhook URLs often carry a token
        raise ValueError(f"expected an absolute http:// or https:// URL (scheme {url.scheme!r})")
    return value


HttpUrl = Annotated[str, AfterValidator(check_http_url)]


def _proxy(value: str) -> str:
    parse_proxy(value)  # ValueError saying what is wrong, never echoing the URL
    return value


def _source_proxy(value: str) -> str:
    return DIRECT if value.lower() == DIRECT else _proxy(value)


ProxyUrl = Annotated[str, AfterValidator(_proxy)]
SourceProxy = Annotated[str, AfterValidator(_source_proxy)]  # or ``none``: no proxy
