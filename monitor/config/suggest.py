"""Did-you-mean for the configuration: an unknown key or name suggests the closest known one
(``defaults.intervall: unknown key (did you mean interval?)``)."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

CUTOFF = 0.75  # how alike (difflib's ratio) a known spelling must be to be suggested


def suggestion(word: object, known: Iterable[object]) -> str:
    """`` (did you mean X?)`` when ``known`` holds a close spelling of ``word``, else ``""``."""
    if not isinstance(word, str):
        return ""
    candidates = sorted({k for k in known if isinstance(k, str) and k != word})
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=CUTOFF)
    return f" (did you mean {close[0]}?)" if close else ""


def _models_in(annotation: object) -> set[type[BaseModel]]:
    """The pydantic models an annotation holds (``list[Rule]``, ``Smtp | None``, a union…)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    found: set[type[BaseModel]] = set()
    if typing.get_origin(annotation) is not None or isinstance(annotation, types.UnionType):
        for argument in typing.get_args(annotation):
            found |= _models_in(argument)
    return found


def keys_at(model: type[BaseModel], loc: Sequence[int | str]) -> set[str]:
    """The keys accepted at ``loc`` of ``model`` (the place of an unknown key): each model a
    field may hold (a union's every member), list indexes and union tags passed over."""
    models = {model}
    for part in loc:
        if isinstance(part, int):
            continue
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        if fields:
            models = {inner for field in fields for inner in _models_in(field.annotation)}
    return {field.alias or name for m in models for name, field in m.model_fields.items()}
