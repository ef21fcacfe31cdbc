"""What loading a configuration file reports, for the tests of its mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.core.errors import ConfigError


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    """The problems of the configuration at ``path`` (it must be invalid)."""
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    return caught.value.problems
