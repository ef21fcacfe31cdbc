"""Structured logs: one event per line, ``time level event key=value …``; never a secret.

Secrets are kept out at the source (errors name hosts, not URLs; SMTP replies are scrubbed of the
password), and every line is also passed through :func:`redact` on its way out, so a URL that
slips into a message, a field or a traceback loses its userinfo and its query values.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

LOGGER = logging.getLogger("monitor")

# A URL: scheme, "://", then everything up to white space, a quote or an angle bracket.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
REDACTED = "***"


def _redact_query(query: str) -> str:
    parts = []
    for part in re.split(r"([&;])", query):
        if part in ("&", ";") or not part:
            parts.append(part)
        elif "=" in part:
            parts.append(part.split("=", 1)[0] + "=" + REDACTED)
        else:
            parts.append(REDACTED)  # a bare value (``?SECRET``) is as sensitive as a named one
    return "".join(parts)


def redact_url(url: str) -> str:
    """``url`` without its userinfo and with every query value replaced by ``***``."""
    scheme, _, rest = url.partition("://")
    cut = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        authority = REDACTED + "@" + authority.rpartition("@")[2]
    path, mark, query = tail.partition("?")
    if mark:
        query, hash_, fragment = query.partition("#")
        tail = path + "?" + _redact_query(query) + hash_ + fragment
    return f"{scheme}://{authority}{tail}"


def redact(text: str) -> str:
    """Every URL in ``text`` redacted (see :func:`redact_url`); the rest unchanged."""
    return _URL.sub(lambda found: redact_url(found[0]), text) if "://" in text else text


def _quote(value: object) -> str:
    text = redact(str(value))
    if not text or any(c in text for c in ' "=\n\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        parts = [
            self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            record.levelname.lower(),
            redact(record.getMessage()),
        ]
        parts += [f"{key}={_quote(value)}" for key, value in fields.items() if value is not None]
        if record.exc_info:
            parts.append("exc=" + _quote(self.formatException(record.exc_info)))
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``log_format: json``), for journald, Loki or Elasticsearch:
    ``time``, ``level``, ``event`` and the event's fields, redacted like the text form."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "event": redact(record.getMessage()),
        }
        for key, value in fields.items():
            if value is not None:
                plain = isinstance(value, bool | int | float)
                line.setdefault(key, value if plain else redact(str(value)))
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": KeyValueFormatter, "json": JsonFormatter}


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with its fields (``source=…``, ``subscriber=…``)."""
    LOGGER.log(level, name, extra={"fields": fields})


def setup(level: str = "INFO", form: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FORMATTERS[form]())
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(level)
    LOGGER.propagate = False
    # the libraries' own warnings (a missed tick, a job error) go through the same formatter
    for name in ("apscheduler", "asyncio", "sqlalchemy", "alembic"):
        library = logging.getLogger(name)
        library.handlers[:] = [handler]
        library.setLevel(logging.WARNING)
        library.propagate = False
