"""A source's definition as the store keeps it (``sources_from: store``; design notes in
docs/operations.md, "A million sources"): its validated entry as JSON, written by ``monitor
sources load`` and read back by the replica that claims the source, defaults left out so that
the text stays short.

A value the sources file writes with a ``${VAR}`` (a password, a token, a proxy's
credentials) is kept as written, its variable unexpanded: a secret does not reach the
database, as in config mode. The replica reading the definition expands it from its own
environment, as the configuration loader does; a variable it lacks makes the definition
invalid, an error naming the source. (The ``url`` is the exception: the table's ``url``
column holds it expanded, as in config mode, since the poller fetches it from there.)"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import SecretStr, TypeAdapter

from monitor.config.sources import SourceConfig
from monitor.core.redact import remember_secret

_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")  # (as monitor.config.located's)
# the key listing the fields written with variables (no field of a source is named so)
FROM_ENV = "from_env"
_EXPANDED = frozenset({"name", "url"})  # kept as their values (see above)


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


def definition(source: SourceConfig, written: Mapping[str, str] | None = None) -> str:
    """The JSON text the store keeps of ``source``; ``written``: the text of its fields that
    the file wrote with a ``${VAR}`` (before expansion), kept so for each that is text."""
    entry = _plain(source.model_dump(exclude_defaults=True))
    entry["kind"] = source.kind
    kept = sorted(
        key
        for key, text in (written or {}).items()
        if key not in _EXPANDED and isinstance(entry.get(key), str) and _VAR.search(text)
    )
    for key in kept:
        entry[key] = (written or {})[key]
    if kept:
        entry[FROM_ENV] = kept
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def from_definition(text: str, env: Mapping[str, str] | None = None) -> SourceConfig:
    """The source a stored definition describes, its ``${VAR}`` expanded from ``env`` (the
    process's environment unless told); ValueError if a variable is not set, or if it no
    longer validates (a definition written by another version of monitor)."""
    entry = json.loads(text)
    env = os.environ if env is None else env
    for key in entry.pop(FROM_ENV, []):
        entry[key] = _expand(entry[key], key, env)
    return _ADAPTER.validate_python(entry)


def _expand(text: str, key: str, env: Mapping[str, str]) -> str:
    def replace(found: re.Match[str]) -> str:
        if found[1] not in env:
            raise ValueError(f"{key}: environment variable {found[1]} is not set")
        remember_secret(env[found[1]])  # never shown again (monitor.core.redact)
        return env[found[1]]

    return _VAR.sub(replace, text)
