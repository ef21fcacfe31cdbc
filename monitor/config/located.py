"""The configuration's YAML read into plain values, each keeping its position for errors
(``PATH:LINE:COL``): composed into nodes first, with caps that keep a hostile file harmless
(size, depth, aliases expanded), unknown tags refused, and ``${VAR}`` replaced from the
environment in scalar strings (config only, never feed data). monitor.config.load validates
what it reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from monitor.config.entries import Loc, Position
from monitor.core.errors import ConfigError
from monitor.core.redact import REDACTED, printable, redact, remember_secret, secret_name

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _pos(path: str, mark: yaml.Mark) -> Position:
    return (path, mark.line + 1, mark.column + 1)


def _at(path: str, mark: yaml.Mark | None) -> Position | None:
    return None if mark is None else _pos(path, mark)


MAX_DEPTH = 64  # nested lists and mappings: far beyond a sane configuration, and well within
# what PyYAML's composer (recursive) and the rule compiler can take
MAX_VALUES = 1_000_000  # values once aliases are expanded (a "billion laughs" file stops here)
MAX_FILE_BYTES = 10 * 1024 * 1024  # a configuration, subscribers or rules file: refused unread
# past this (a real one is far smaller; a 50 MB one took minutes and gigabytes to compose)
_STD = "tag:yaml.org,2002:"
# The tags a value may carry: YAML's own scalar types, plain mappings and lists. Any other
# (``!!python/name:…``, ``!!set``, a local ``!foo``) is a configuration error, never a call.
_SCALAR_TAGS = frozenset(
    _STD + name for name in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)
_MAP, _SEQ, _MERGE, _STR = _STD + "map", _STD + "seq", _STD + "merge", _STD + "str"
_NO_KEY = object()  # what a key that cannot be one makes


def _tag(tag: str) -> str:
    """A tag as the YAML text wrote it (``!!python/name:os.system``, ``!foo``), shortened."""
    shown = "!!" + tag.removeprefix(_STD) if tag.startswith(_STD) else tag
    return printable(shown if len(shown) <= 60 else shown[:60] + "…")


TOO_LARGE = f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: refused, unread"


def read_capped(path: str | Path) -> bytes | None:
    """The bytes of a file, or None as soon as it passes MAX_FILE_BYTES."""
    with open(path, "rb") as file:
        raw = file.read(MAX_FILE_BYTES + 1)
    return None if len(raw) > MAX_FILE_BYTES else raw


def read_file(path: str | Path) -> str:
    """The text of a configuration (or rules) file; ConfigError when it cannot be read, is
    not UTF-8 or is larger than MAX_FILE_BYTES (then nothing of it is parsed)."""
    raw: bytes | None = None
    try:
        raw = read_capped(path)
        if raw is None:
            raise ConfigError([f"{path}: {TOO_LARGE}"])
        return raw.decode("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: no such file"]) from exc
    except OSError as exc:  # in words: "permission denied", not "[Errno 13] …"
        why = (exc.strerror or type(exc).__name__).lower()
        raise ConfigError([f"{path}: cannot read ({why})"]) from exc
    except UnicodeDecodeError as exc:
        at = raw[: exc.start] if raw is not None else b""
        line, column = at.count(b"\n") + 1, exc.start - at.rfind(b"\n")
        raise ConfigError([f"{path}:{line}:{column}: not UTF-8 text (save it as UTF-8)"]) from exc


class _Oversized(Exception):
    """Aliases expand the document past MAX_VALUES values or MAX_DEPTH levels."""


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:  # a yaml.Mark (C or Python), or None
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing lists and mappings nested past MAX_DEPTH as it composes them
    (its composer is recursive: deeper, Python's stack would run out)."""

    depth = 0  # collections being composed

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


# libyaml's loader, when PyYAML has it: it composes a configuration about five times faster
# (0.03 against 0.12 s for 1,000 sources), with the same nodes and marks
_CLoader: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)


# PyYAML's problems said in words (its own only when these have none)
_WORDS = (
    ("expected <block end>", "this line's indentation does not fit the lines above it"),
    ("did not find expected key", "this line's indentation does not fit the lines above it"),
    ("mapping values are not allowed here",
     "a ': ' where no key can start: this line is indented more than the key above it allows, "
     "or a value holding ': ' needs quotes"),
    ("found character '\\t'", "a tab: YAML indents with spaces, not tabs"),
    ("could not find expected ':'", "a line without ':' where a 'key: value' was expected"),
    ("expected ',' or ']'", "a '[' list is not closed with ']' (or an item lacks its comma)"),
    ("expected ',' or '}'", "a '{' mapping is not closed with '}' (or an entry lacks its comma)"),
    ("did not find expected '-' indicator",
     "a list item without '-', or indented differently from the items above it"),
    ("found undefined alias", "an alias (*name) with no anchor (&name) before it"),
)  # fmt: skip
_UNCLOSED = "a quoted value is never closed (its closing quote is missing)"


def in_words(exc: yaml.MarkedYAMLError) -> str:
    """What a YAML syntax error means, in words (PyYAML's own, ``expected <block end>, but
    found '<scalar>'``, only when there are none for it)."""
    problem = exc.problem or "syntax error"
    if "quoted scalar" in (exc.context or "") and "end of stream" in problem:
        return _UNCLOSED
    for found, words in _WORDS:
        if found in problem:
            return words
    return problem


def _past_end(text: str, mark: yaml.Mark) -> bool:
    """Whether ``mark`` is past the last line with text (an error found at the end)."""
    return mark.line >= len(text.rstrip().splitlines())


def _shown_at(text: str, mark: yaml.Mark | None) -> str:
    """The line ``mark`` points into and a caret under its column, as lines to print after the
    message ("" when the mark is past the text or the line is too long to show)."""
    if mark is None:
        return ""
    lines = text.splitlines()
    if mark.line >= len(lines) or len(lines[mark.line]) > MAX_SHOWN:
        return ""
    number = str(mark.line + 1)
    # shown as logs and terminals may keep it: no credentials of a URL, no value of a key
    # named like a secret (password:, token:…), no ${VAR} value known to be one
    line = redact(lines[mark.line].replace("\t", " "))
    key, colon, value = line.partition(":")
    if colon and value.strip() and secret_name(key.strip(" -")):
        line = f"{key}: {REDACTED}"
    return f"\n  {number} | {line}\n  {' ' * len(number)} | {' ' * mark.column}^"


MAX_SHOWN = 200  # characters of an offending line shown under its error


def _compose(text: str) -> yaml.Node | None:
    """The document's nodes, by libyaml when PyYAML has it; a document it refuses is composed
    again by the Python loader, whose messages say more (``found character '\\t'``)."""
    if _CLoader is None:
        return yaml.compose(text, Loader=_Loader)
    try:
        _check_depth(text, _CLoader)  # (libyaml's composer recurses in C: too deep, it crashes)
        return yaml.compose(text, Loader=_CLoader)
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError):
        return yaml.compose(text, Loader=_Loader)


def _check_depth(text: str, loader: type[yaml.CSafeLoader]) -> None:
    """_TooDeep when lists and mappings nest past MAX_DEPTH in ``text`` (libyaml's events,
    before its composer recurses into them)."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooDeep(event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class Reader:
    """Values with their positions, in the main file and the subscribers file (``Sink``)."""

    def __init__(self, path: str, env: Mapping[str, str]) -> None:
        self.files = [path]  # problems are listed file by file, in this order
        self.env = env
        self.marks: dict[Loc, Position] = {}
        self.rows: dict[Loc, tuple[str, ...]] = {}  # a table's rows: their cells' names
        self.problems: list[tuple[int, int, int, str]] = []
        self.unset: set[Loc] = set()  # values whose variable was missing: not validated further
        self.shift: dict[str, int] = {}  # a subscribers file's entries follow the main ones
        self.constructor = yaml.constructor.SafeConstructor()
        self.values = 0  # made by :meth:`value` for the current document
        # the text of each value written with a ${VAR}, before expansion (a store's definition
        # keeps it so: monitor.config.stored)
        self.written: dict[Loc, str] = {}

    def problem(self, at: Position | None, loc: Loc, message: str) -> None:
        path, line, column = at or (self.files[0], 1, 1)
        if path in self.shift and len(loc) > 1 and isinstance(loc[1], int):
            loc = (loc[0], loc[1] - self.shift[path], *loc[2:])  # its own index in that file
        where = f"{dotted(loc)}: " if loc else ""  # (a YAML syntax error is of no key)
        text = f"{path}:{line}:{column}: {where}{message}"
        rank = self.files.index(path) if path in self.files else len(self.files)
        if (rank, line, column, text) not in self.problems:
            self.problems.append((rank, line, column, text))

    def error(self) -> ConfigError:
        return ConfigError([text for *_, text in sorted(self.problems)])

    def compose(self, text: str, path: str) -> tuple[bool, yaml.Node | None]:
        try:
            return True, _compose(text)
        except _TooDeep as exc:
            self.problem(_at(path, exc.mark), (), f"nested more than {MAX_DEPTH} levels deep")
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            if exc.context_mark is not None and (mark is None or _past_end(text, mark)):
                mark = exc.context_mark  # an unclosed quote or list: where it opens
            words = f"invalid YAML: {in_words(exc)}{_shown_at(text, mark)}"
            self.problem(_at(path, mark), (), words)
        except yaml.reader.ReaderError as exc:  # a control character, before any parsing
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - text.rfind("\n", 0, exc.position)
            self.problem((path, line, column), (), f"invalid YAML: {exc.reason}")
        return False, None

    def place(self, loc: Loc, at: Position) -> None:
        self.marks[loc] = at

    def place_row(self, loc: Loc, at: Position, columns: tuple[str, ...]) -> None:
        self.marks[loc] = at
        self.rows[loc] = columns

    def forget(self, section: str, below: int) -> None:
        """Let go of what is kept of the entries of ``section`` numbered under ``below`` (a
        sources file of a million entries is checked a batch at a time: monitor.config.load)."""

        def kept(loc: Loc) -> bool:
            return not (
                len(loc) > 1 and loc[0] == section and isinstance(loc[1], int) and loc[1] < below
            )

        self.marks = {loc: at for loc, at in self.marks.items() if kept(loc)}
        self.rows = {loc: columns for loc, columns in self.rows.items() if kept(loc)}
        self.written = {loc: text for loc, text in self.written.items() if kept(loc)}
        self.unset = {loc for loc in self.unset if kept(loc)}

    def document(self, node: yaml.Node, path: str, loc: Loc = ()) -> Any:
        """The value of a whole document; ConfigError when aliases expand it past MAX_VALUES
        values or MAX_DEPTH levels (the text itself was checked by :meth:`compose`). ``loc``:
        where the document's value sits in the configuration (a bare list of rules is
        ``("rules",)``), so that its values are located under that key."""
        self.values = 0
        try:
            data = self.value(node, loc, path)
        except (_Oversized, RecursionError):
            message = (
                f"aliases expand it past {MAX_VALUES:,} values or {MAX_DEPTH} levels of nesting"
            )
            self.problem(_pos(path, node.start_mark), (), message)
            raise self.error() from None
        return data

    def value(self, node: yaml.Node, loc: Loc, path: str, depth: int = 0) -> Any:
        """The node as Python values; _Oversized past MAX_VALUES values, or lists and mappings
        nested past MAX_DEPTH levels (``depth``: those around it), as aliases may expand."""
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Oversized
        at = self.marks[loc] = _pos(path, node.start_mark)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag in (_MAP, _SEQ):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Oversized
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.key(key_node, loc, path)
                if key is _NO_KEY:
                    continue
                if key in result:
                    self.problem(_at(path, key_node.start_mark), (*loc, key), "duplicate key")
                self.marks[(*loc, key, "__key__")] = _pos(path, key_node.start_mark)
                result[key] = self.value(value_node, (*loc, key), path, depth)
            return result
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [self.value(child, (*loc, i), path, depth) for i, child in enumerate(node.value)]
        scalar = self.scalar(node, at, loc)
        if isinstance(scalar, str) and "${" in scalar:
            return self.interpolate(scalar, at, loc)
        return scalar

    def scalar(self, node: yaml.Node, at: Position, loc: Loc) -> Any:
        """The value of a scalar node with one of YAML's own tags; None, with a problem, for
        any other node (an unknown tag) or a value its tag cannot read (``!!int abc``)."""
        if node.tag == _STR and isinstance(node, yaml.ScalarNode):
            return node.value  # what the constructor makes of a string, a tenth of the time
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _SCALAR_TAGS:
            self.problem(at, loc, f"unknown YAML tag {_tag(node.tag)} (no tag is needed here)")
            self.unset.add(loc)
            return None
        try:
            return self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            self.problem(at, loc, f"not a valid {_tag(node.tag)} value")
            self.unset.add(loc)
            return None

    def key(self, node: yaml.Node, loc: Loc, path: str) -> Any:
        """The key a node makes; _NO_KEY, with a problem, for one that cannot be a key."""
        at = _pos(path, node.start_mark)
        if node.tag == _MERGE:
            self.problem(at, loc, "merge keys (<<) are not supported: repeat the keys")
        elif not isinstance(node, yaml.ScalarNode):
            self.problem(at, loc, "a key must be a plain value, not a list or a mapping")
        elif node.tag not in _SCALAR_TAGS:
            self.problem(at, loc, f"unknown YAML tag {_tag(node.tag)} (no tag is needed here)")
        elif node.tag == _STR:
            return node.value  # (as the scalars', a key's string read directly)
        else:
            try:
                return self.constructor.construct_object(node)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError):
                self.problem(at, loc, f"not a valid {_tag(node.tag)} key")
        return _NO_KEY

    def interpolate(self, text: str, at: Position, loc: Loc) -> str:
        self.written[loc] = text

        def replace(found: re.Match[str]) -> str:
            name = found[1]
            if name not in self.env:
                self.problem(at, loc, f"environment variable {name} is not set")
                self.unset.add(loc)
                return ""
            remember_secret(self.env[name])  # never shown again (monitor.core.redact)
            return self.env[name]

        return _VAR.sub(replace, text)

    def mark_of(self, loc: Loc, key: bool = False) -> Position | None:
        if key and (*loc, "__key__") in self.marks:
            return self.marks[(*loc, "__key__")]
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.marks:
                return self.marks[loc[:end]]
            row, cell = loc[: end - 1], loc[end - 1 : end]
            if end and row in self.rows and cell[0] in self.rows[row]:  # a table's cell
                path, line, _ = self.marks[row]
                return (path, line, self.rows[row].index(str(cell[0])) + 1)
        return None


def dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
