"""Digests to render in tests: items, a digest of them in Casablanca time, and the HTML
parsed back into its elements."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from monitor.core.models import Digest, DigestItem

CASABLANCA = ZoneInfo("Africa/Casablanca")


def item(
    title: str = "Le démarchage téléphonique interdit",
    link: str = "https://leseco.ma/a/1",
    summary: str = "Les centres d’appel s’adaptent au démarchage.",
    published: datetime | None = datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
    rules: tuple[str, ...] = ("demarchage",),
    terms: Mapping[str, tuple[str, ...]] | None = None,
    key: str = "1",
) -> DigestItem:
    return DigestItem(
        id=f"it_{key}",
        title=title,
        link=link,
        source="leseco",
        published=published,
        summary=summary,
        rules=rules,
        terms=terms if terms is not None else {"demarchage": ("démarchage",)},
    )


def digest(*items: DigestItem) -> Digest:
    return Digest(
        id="dg_test",
        subscriber="analyste",
        created=datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        items=items,
    )


class Elements(HTMLParser):
    """Every start tag with its attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser
