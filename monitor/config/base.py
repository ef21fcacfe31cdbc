"""What every model of the configuration shares: unknown keys refused, values frozen once read
(DESIGN §5), and the names that sources, rules and subscribers are known by."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_NAME = re.compile(r"^[\w.-]+$")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):  # (in words: pydantic's message would show the pattern)
        raise ValueError("a name is letters, digits, '_', '.' and '-' only (no spaces)")
    if value in (".", ".."):  # the web app's /sources/NAME: browsers drop such a path segment
        raise ValueError(f"{value!r} cannot be a name: it is a path's dot segment")
    return value


# a source's, rule's or subscriber's name: what logs, digests and the store key on
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_name)]


class Model(BaseModel):
    # defer_build: a model's validator is built when it first validates, not when the class is
    # made; most are only ever parts of Config, whose validator holds theirs (start-up -60 ms)
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
