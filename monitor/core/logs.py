"""Structured logs: one event per line, ``time level event key=value …``; never a secret.

Secrets are kept out at the source (errors name hosts, not URLs; SMTP replies are scrubbed of the
password), and every line is also passed through :func:`monitor.core.redact.redact` on its way
out, so a URL that slips into a message, a field or a traceback loses its userinfo, its secret query
values and every ``${VAR}`` value. Control characters (a remote server's ESC, CR or line feed)
are escaped, ``\\x1b``, so that one event stays one line and cannot drive a terminal.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from monitor.core.redact import has_control, printable, printable_json, redact, shown

LOGGER = logging.getLogger("monitor")


def _quote(value: object) -> str:
    text = redact(str(value))
    if not text or any(c in text for c in ' "=\\') or has_control(text):
        return '"' + printable(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        parts = [
            self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            record.levelname.lower(),
            shown(record.getMessage()),
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
        return printable_json(json.dumps(line, ensure_ascii=False))


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
