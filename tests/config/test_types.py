"""The configuration's http URLs: a plain one is accepted without yarl parsing it again
(monitor.config.types), and every URL gets the answer yarl's reading gives."""

from __future__ import annotations

import random

import pytest
from yarl import URL

from monitor.config.types import check_http_url


def yarl_answer(value: str) -> str:
    """What the check answered when every URL was read by yarl: "ok" or the error."""
    if "\\" in value or any(ord(c) < 32 for c in value):
        return "URL contains a backslash or a control character"
    try:
        url = URL(value)
    except ValueError as exc:
        return f"yarl: {exc}"
    except IndexError:  # (yarl's own failure: said in words by the check)
        return "brackets outside an IPv6 address (http://[::1]/)"
    if url.scheme not in ("http", "https") or not url.host:
        return f"expected an absolute http:// or https:// URL (scheme {url.scheme!r})"
    return "ok"


def answer(value: str) -> str:
    try:
        assert check_http_url(value) == value
    except ValueError as exc:
        message = str(exc)
        ours = ("URL contains", "expected", "brackets")
        return message if message.startswith(ours) else f"yarl: {exc}"
    return "ok"


@pytest.mark.parametrize(
    "url",
    [
        "https://leseco.ma/feed/",
        "http://127.0.0.1:8999/feed/1",
        "http://a:/",
        "http://a:9999",
        "http://a:99999/",  # out of range: refused by yarl
        "http://a:65536/",
        "http://./",
        "http://x.ma?q=1#top",
        'http://x.ma/p%zz<>"{}|^`',
        "HTTP://X.MA/",
        "http://user:pw@x.ma/",
        "http://[::1]:80/",
        "http://[::1/",
        "http:///path",
        "http://",
        "ftp://x.ma/",
        "http://é.ma/",
        "http://x.ma/a b",
        "http://x.ma/\x7f",
        "http://x.ma/\\",
        "http://x.ma/\t",
        "http://x[y]@/",  # yarl itself fails on it (IndexError): an error, not a crash
    ],
)
def test_each_url_gets_yarl_s_answer(url: str) -> None:
    assert answer(url) == yarl_answer(url)


def test_random_urls_get_yarl_s_answer() -> None:
    pieces = ["http://", "https://", "a", "Z", "0", "9", ".", "-", ":", "/", "?", "#", "@"]
    pieces += ["%", "[", "]", " ", "é", "~", "8080", "99999", "x.ma", "\x7f"]
    rng = random.Random(25)
    for _ in range(20_000):
        url = rng.choice(["http://", "https://"]) + "".join(
            rng.choice(pieces) for _ in range(rng.randint(0, 8))
        )
        assert answer(url) == yarl_answer(url), url
