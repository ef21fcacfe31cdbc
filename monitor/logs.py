"""Structured logs: one event per line, ``time level event key=value …``; never a secret."""

from __future__ import annotations

import logging
import sys
from typing import Any

LOGGER = logging.getLogger("monitor")


def _quote(value: object) -> str:
    text = str(value)
    if not text or any(c in text for c in ' "=\n\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        parts = [
            self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            record.levelname.lower(),
            record.getMessage(),
        ]
        parts += [f"{key}={_quote(value)}" for key, value in fields.items() if value is not None]
        if record.exc_info:
            parts.append("exc=" + _quote(self.formatException(record.exc_info)))
        return " ".join(parts)


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with its fields (``source=…``, ``subscriber=…``)."""
    LOGGER.log(level, name, extra={"fields": fields})


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(level)
    LOGGER.propagate = False
