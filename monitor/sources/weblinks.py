"""What counts as a web address in what a source says (a link, a feed's hub, a sitemap's
entry): a leaf module, imported by every parser without importing another."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_web(url: str) -> bool:
    """Whether ``url`` is an http(s) address (not javascript:, mailto:, a file…)."""
    return urlsplit(url).scheme.lower() in ("http", "https")
