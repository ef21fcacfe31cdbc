"""A source's definition as the store keeps it (``sources_from: store``; design notes in
docs/operations.md, "A million sources"): its validated entry as JSON, written by ``monitor
sources load`` and read back by the replica that claims the source. Secrets are kept as
written (a ``${VAR}``'s value: the replicas need them to poll), defaults left out so that the
text stays short."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pydantic import SecretStr, TypeAdapter

from monitor.config.sources import SourceConfig

_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)


def _plain(value: Any) -> Any:
    """``value`` as JSON values the models read back to the same thing."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, timedelta):
        return int(value.total_seconds())  # (a bare number is seconds: parse_duration)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def definition(source: SourceConfig) -> str:
    """The JSON text the store keeps of ``source``."""
    entry = _plain(source.model_dump(exclude_defaults=True))
    entry["kind"] = source.kind
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def from_definition(text: str) -> SourceConfig:
    """The source a stored definition describes (ValueError if it no longer validates: a
    definition written by another version of monitor)."""
    return _ADAPTER.validate_python(json.loads(text))
