"""What counts as a web address in what a source says (a link, a feed's hub, a sitemap's
entry): a leaf module, imported by every parser without importing another."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_web(url: str) -> bool:
    """Whether ``url`` is an http(s) address (not javascript:, mailto:, a file…)."""
    if url[:8].lower().startswith(("http://", "https://")):
        return True  # (the common case, without splitting the URL)
    return urlsplit(url).scheme.lower() in ("http", "https")
