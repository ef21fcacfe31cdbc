"""Query parameters every page and API reads alike: whole numbers (``limit``, ``after``, a
count), and the error that names a parameter it cannot take."""

from __future__ import annotations


class BadParameter(ValueError):
    """A query parameter the API cannot take; the message names it."""


def digits(text: str) -> bool:
    """Whether ``text`` is a whole number ``int`` reads: ASCII digits only (``str.isdigit``
    also takes ``²`` and other digits ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def limit_of(text: str | None, page: int, most: int) -> int:
    """The ``limit`` parameter: ``page`` when absent, else a whole number from 1 to ``most``."""
    if text is None:
        return page
    if not digits(text) or len(text) > 6 or not 1 <= int(text) <= most:
        raise BadParameter(f"limit: a whole number from 1 to {most}")
    return int(text)
