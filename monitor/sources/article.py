"""An article's own page, for ``fetch_article: true``: its main text, as trafilatura finds it
(navigation, comments and boilerplate left out). Runs in a parse worker like any parse, under
the same deadline and memory cap; trafilatura is imported by the first such parse only."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.models import Entry, Fetched
from monitor.sources.base import Parsed

MAX_TEXT = 20_000  # characters kept of an article's text: enough to match, cheap to hold


@dataclass(frozen=True, slots=True)
class ArticleKind:
    name: str = "article"
    follows: bool = False

    def parse(self, fetched: Fetched, max_items: int | None = None) -> Parsed:
        """One entry holding the page's main text (none when there is no text to find)."""
        import trafilatura

        text = trafilatura.extract(
            fetched.body, include_comments=False, include_tables=False, favor_precision=True
        )
        if not text:
            return Parsed([], 0)
        entry = Entry(None, fetched.url, "", "", text[:MAX_TEXT], None)
        return Parsed([entry], 1)
