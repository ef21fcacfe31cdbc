"""What every model of the configuration shares: unknown keys refused, values frozen once read
(DESIGN §5), and the names that sources, rules and subscribers are known by."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# a source's, rule's or subscriber's name: what logs, digests and the store key on
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.-]+$")]


class Model(BaseModel):
    # defer_build: a model's validator is built when it first validates, not when the class is
    # made; most are only ever parts of Config, whose validator holds theirs (start-up -60 ms)
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
