"""The rule language as it is written in YAML (pydantic models); :mod:`monitor.rules` compiles it.

An entry of ``any``, ``all`` or ``none`` is a *condition*:

- a term string: ``démarchage``, ``centre* d'appel*``, ``/chat-?gpt/i``;
- ``{term: "AI", case: sensitive}``: a term whose letters must also match in case;
- ``{near: ["IA", "centres d'appels"], within: 15}``: every term in one field, at most ``within``
  words apart, in any order;
- ``{rule: ia}``: another rule fires on the item;
- ``{any: [...], all: [...], none: [...]}``: a group, true as a rule's own lists are.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from monitor.config.base import Model, Name
from monitor.config.suggest import suggestion
from monitor.terms.syntax import term_problem

Field_ = Literal["title", "summary", "content"]
ALL_FIELDS: tuple[Field_, ...] = ("title", "summary", "content")


def _one_line(label: str) -> str:
    if not label.strip() or any(ch < " " or ch == "\x7f" for ch in label):
        raise ValueError("a label is one line of text, not empty")
    return label


# what a person reads of a rule; the store and logs key on its name
Label = Annotated[str, Field(max_length=100), AfterValidator(_one_line)]
Description = Annotated[str, Field(max_length=300), AfterValidator(_one_line)]

MAX_WITHIN = 1000
MAX_DEPTH = 16  # rules in a chain of references


# The languages a rule may name (``languages: [fr]``): the labels of the detector's model
# (py3langid 0.4, monitor.rules.language), folded; tests/rules/test_language.py checks them against
# it.
LANGUAGES = frozenset(
    "ace af am an ar as az ba bcl be bg bn br bs ca crh cs cy da de dz el en eo es et eu ext fa "
    "ff fi fo fr fy ga gcf gcr gd gl gn gom grc gu guw ha hbo he hi hr ht hu hy id ig is it ja jv "
    "ka kab kik kk km kn ko ku ky la lb lg lij ln lo lt lv mg mk ml mn mr ms mt my ne nl nn no "
    "nso oc om or pa pcm pl ps pt qu ro ru rw sa se si sk sl sn so sq sr st sv sw ta te tg th tk "
    "tl tr tt ug uk ur uz vec vi vo wa xh yo zh zu".split()
)


def _term(term: str) -> str:
    problem = term_problem(term)
    if problem:
        raise ValueError(problem)
    return term


Term = Annotated[str, AfterValidator(_term)]


class CaseTerm(Model):
    term: str
    case: Literal["sensitive", "insensitive"] = "insensitive"

    @model_validator(mode="after")
    def _usable(self) -> CaseTerm:
        problem = term_problem(self.term, case_sensitive=self.case == "sensitive")
        if problem:
            raise ValueError(problem)
        return self


class Near(Model):
    near: list[TermItem] = Field(min_length=2, max_length=10)
    within: int = Field(ge=0, le=MAX_WITHIN)


class RuleRef(Model):
    rule: Name


class Group(Model):
    any: list[Condition] = Field(default_factory=list)
    all: list[Condition] = Field(default_factory=list)
    none: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Group:
        if not (self.any or self.all or self.none):
            raise ValueError("a group needs at least one condition in 'any', 'all' or 'none'")
        return self


def _finds(lists: Group | RuleConfig) -> bool:
    """Whether the lists are true only when some term is found (the matcher evaluates a rule
    only then): an ``any`` list of such conditions, or one such condition in ``all``."""

    def finds(condition: object) -> bool:
        return not isinstance(condition, Group) or _finds(condition)

    return (bool(lists.any) and all(map(finds, lists.any))) or any(map(finds, lists.all))


# pydantic names the branch it validated in error locations: these names end with "]" so the
# configuration loader leaves them out of the key paths it reports.
_BRANCHES: dict[type, str] = {
    str: "cond[str]",
    CaseTerm: "cond[term]",
    Near: "cond[near]",
    RuleRef: "cond[rule]",
    Group: "cond[group]",
}
_KEYS = (("term", "cond[term]"), ("near", "cond[near]"), ("rule", "cond[rule]"))
_EXPECTED = (
    "expected a term, or a mapping with 'term' (and 'case'), 'near' (and 'within'), 'rule', "
    "or 'any'/'all'/'none'"
)


def _branch(value: Any) -> str | None:
    if type(value) in _BRANCHES:
        return _BRANCHES[type(value)]
    if not isinstance(value, dict):
        return None
    for key, branch in _KEYS:
        if key in value:
            return branch
    if set(value) & {"any", "all", "none"}:  # a group, maybe with a mistyped key: named
        return "cond[group]"
    return None


def _term_branch(value: Any) -> str | None:
    branch = _branch(value)
    return branch if branch in ("cond[str]", "cond[term]") else None


TermItem = Annotated[
    Annotated[Term, Tag("cond[str]")] | Annotated[CaseTerm, Tag("cond[term]")],
    Discriminator(
        _term_branch,
        custom_error_type="term",
        custom_error_message="expected a term or {term: …, case: sensitive}",
    ),
]
Condition = Annotated[
    Annotated[Term, Tag("cond[str]")]
    | Annotated[CaseTerm, Tag("cond[term]")]
    | Annotated[Near, Tag("cond[near]")]
    | Annotated[RuleRef, Tag("cond[rule]")]
    | Annotated[Group, Tag("cond[group]")],
    Discriminator(_branch, custom_error_type="condition", custom_error_message=_EXPECTED),
]


class RuleConfig(Model):
    name: Name
    # what digests call the rule ("Démarchage téléphonique"): subjects, headings, item lines
    label: Label | None = None
    # one line saying what the rule follows, for the sign-up page's topics (DESIGN §3.8)
    description: Description | None = None
    any: list[Condition] = Field(default_factory=list)
    all: list[Condition] = Field(default_factory=list)
    none: list[Condition] = Field(default_factory=list)
    fields: list[Field_] = Field(default_factory=lambda: list(ALL_FIELDS))
    # scope: only items of these sources, or of sources with one of these tags (either list)
    sources: list[Name] | None = None
    tags: list[str] | None = None
    languages: list[str] | None = None  # only items detected in one of these (ISO 639-1)

    @model_validator(mode="after")
    def _something_to_match(self) -> RuleConfig:
        if not self.any and not self.all:
            raise ValueError("a rule needs at least one term in 'any' or 'all'")
        if not _finds(self):
            raise ValueError(
                "the rule could fire without finding any of its terms: give it a term or group "
                "that must be found (not only 'none')"
            )
        if not self.fields:
            raise ValueError("'fields' cannot be empty")
        for key in ("sources", "tags", "languages"):
            if getattr(self, key) == []:
                raise ValueError(f"'{key}' cannot be empty: leave it out to mean all")
        return self

    @model_validator(mode="after")
    def _known_languages(self) -> RuleConfig:
        if not self.languages:
            return self
        unknown = [code for code in self.languages if code not in LANGUAGES]
        if unknown:
            raise ValueError(
                f"unknown language {', '.join(map(repr, unknown))}: use ISO 639-1 codes the "
                "detector knows, such as fr, en, es, ar"
            )
        return self


# (no model_rebuild(): the forward references resolve when Config first validates, and an
# explicit rebuild here would undo defer_build for start-up's sake)


Loc = tuple[str | int, ...]


def _references_in(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every ``rule:`` reference inside a raw condition list or mapping, with its place."""
    if isinstance(value, list):
        for index, child in enumerate(value):
            yield from _references_in(child, (*loc, index))
    elif isinstance(value, dict):
        if isinstance(value.get("rule"), str):
            yield (*loc, "rule"), value["rule"]
        for key in ("any", "all", "none"):
            yield from _references_in(value.get(key), (*loc, key))


def references(rule: RuleConfig) -> set[str]:
    """The names of the rules ``rule`` refers to (``rule: NAME`` in its lists, at any depth)."""
    return {name for _, name in _references_in(rule.model_dump(), ())}


def cross_problems(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Checks of the rules against the rest of the raw configuration: referenced rules exist
    and form no cycle, scoped sources and tags exist."""
    rules = _list(data.get("rules"))
    yield from reference_problems(rules)
    if data.get("sources_from") == "store":
        # the store holds the sources: a scope naming a source or tag none has matches nothing
        return
    sources = [s for s in _list(data.get("sources")) if isinstance(s, dict)]
    names = names_of(sources)
    tags = {tag for s in sources for tag in _list(s.get("tags")) if isinstance(tag, str)}
    for i, rule in enumerate(r if isinstance(r, dict) else {} for r in rules):
        for j, source in enumerate(_list(rule.get("sources"))):
            # (not a string: the rule's model says so, located; here it could not be hashed)
            if isinstance(source, str) and source not in names:
                yield (
                    ("rules", i, "sources", j),
                    f"unknown source {source!r}" + suggestion(source, names),
                )
        for j, tag in enumerate(_list(rule.get("tags"))):
            if isinstance(tag, str) and tag not in tags:
                message = f"no source has the tag {tag!r}{suggestion(tag, tags)}"
                yield ("rules", i, "tags", j), message


def reference_problems(rules: list[Any]) -> Iterator[tuple[Loc, str]]:
    """Rules referred to (``rule: NAME``) that do not exist, and cycles of references, in
    raw rules (as read from YAML, or dumped from :class:`RuleConfig`)."""
    rules = [r if isinstance(r, dict) else {} for r in rules]
    known = names_of(rules)
    graph: dict[str, list[tuple[Loc, str]]] = {}
    for i, rule in enumerate(rules):
        found = list(_references_in(rule, ("rules", i)))
        if isinstance(rule.get("name"), str):
            graph[rule["name"]] = found
        for loc, name in found:
            if name not in known:
                yield loc, f"unknown rule {name!r}{suggestion(name, known)}"
    yield from _cycles(graph)


def _cycles(graph: Mapping[str, list[tuple[Loc, str]]]) -> Iterator[tuple[Loc, str]]:
    """One problem per reference cycle, at the reference that closes it, and per chain of
    references deeper than MAX_DEPTH (a rule set no reader could follow)."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> Iterator[tuple[Loc, str]]:
        for loc, target in graph.get(name, ()):
            if target in path or target == name:
                cycle = (
                    [*path[path.index(target) :], name, target]
                    if target in path
                    else [name, target]
                )
                yield loc, f"rule references form a cycle: {' → '.join(cycle)}"
            elif len(path) + 1 >= MAX_DEPTH and target in graph:
                chain = " → ".join([*path, name, target])
                yield loc, f"rule references nest deeper than {MAX_DEPTH} rules: {chain}"
            elif target not in done and target in graph:
                yield from visit(target, [*path, name])
        done.add(name)

    for name in graph:
        if name not in done:
            yield from visit(name, [])


def names_of(entries: Any) -> set[str]:
    """The names of raw entries (as read from YAML) that are strings: a name of another type
    (``name: [a]``) is the entry model's problem, told and located there; a list or mapping
    could not even be put in a set."""
    return {
        entry["name"]
        for entry in _list(entries)
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    }


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
