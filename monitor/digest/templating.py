"""The Jinja2 environment digests are rendered with, and user templates' compile errors.

Users may override any of :data:`NAMES` by putting a file of that name in the folder named by
``templates:`` in the config; the others fall back to ours (``monitor/digest/templates``). Ours
are also reachable as ``default/NAME``, so a user template can
``{% extends "default/digest.html.j2" %}`` and override one block. Templates run in Jinja2's
ImmutableSandboxedEnvironment (no attribute starting with ``_``, no mutation of lists or dicts),
with StrictUndefined (a misspelt variable is an error, not an empty string) and autoescape for
``.html.j2`` files.

Compiling is here; :func:`monitor.digest.render.load_templates` also renders each template once
against sample digests, so runtime errors surface at config load too. Both report
``ConfigError(["PATH:LINE: message"])``.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import nh3
from jinja2.filters import do_wordwrap
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from monitor.core.errors import ConfigError
from monitor.core.models import Digest, DigestItem
from monitor.digest.i18n import Strings
from monitor.digest.snippets import is_clean

SUBJECT = "subject.txt.j2"
TEXT = "digest.txt.j2"
HTML = "digest.html.j2"
NAMES = (SUBJECT, TEXT, HTML)
DEFAULT_PREFIX = "default"
MARK_STYLE = "background-color:#fff3a3;font-weight:bold"

# Exactly what digest.html.j2 writes inside the item list; everything else is dropped.
SANITIZER = nh3.Cleaner(
    tags={"h2", "ol", "li", "div", "p", "a", "mark"},
    clean_content_tags={"script", "style"},
    attributes={"*": {"style", "dir", "lang"}, "a": {"href"}},
    url_schemes={"http", "https"},
    url_relative="deny",
    filter_style_properties={
        "background-color",
        "border-bottom",
        "border-top",
        "color",
        "font-size",
        "font-weight",
        "line-height",
        "margin",
        "overflow-wrap",
        "padding",
        "word-break",
    },
)


def sanitize(fragment: str) -> Markup:
    """``fragment`` (already escaped HTML) through nh3: the template's own markup survives."""
    return Markup(SANITIZER.clean(str(fragment)))  # nh3 output is markup we accept as is


def highlight(parts: list[tuple[str, bool]]) -> Markup:
    """(text, hit) runs as escaped HTML, hits in an inline-styled ``<mark>``."""
    return Markup(  # every run escaped, the only markup ours
        "".join(
            f'<mark style="{MARK_STYLE};">{escape(text)}</mark>' if hit else escape(text)
            for text, hit in parts
        )
    )


@jinja2.pass_environment
def wordwrap(
    environment: jinja2.Environment,
    s: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    """Jinja2's ``wordwrap``, without textwrap for what digest.txt.j2 wraps: one clean line
    (:func:`~monitor.digest.snippets.is_clean`), long words and hyphens kept whole. textwrap then
    fills each line greedily with the words that fit, a longer word alone on its line, which is
    what this does (a test holds the two equal); anything else goes to Jinja2's filter."""
    if (
        break_long_words
        or break_on_hyphens
        or type(s) is not str
        or type(width) is not int
        or width <= 0
        or not is_clean(s)
    ):
        return do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)
    if wrapstring is None:
        wrapstring = environment.newline_sequence
    if len(s) <= width:
        return s
    lines: list[str] = []
    line = ""
    for word in s.split(" "):
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line = f"{line} {word}"
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return wrapstring.join(lines)


# Right-to-left letters (Hebrew, Arabic and their presentation forms)
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
FSI, PDI = "\u2068", "\u2069"  # Unicode's first strong isolate and its end


RLM = "\u200f"  # right-to-left mark: starts a line that reads right to left


def isolate(text: str, direction: str = "ltr") -> str:
    """Each line of ``text`` that has right-to-left letters between FSI and PDI, its leading
    spaces outside, so that an Arabic title keeps its order inside a French line, and the line
    its own (the text part's counterpart of HTML's ``dir="auto"``). In a right-to-left digest
    (``direction``), such a line starts with RLM, so the line itself reads right to left where
    only its isolated part is Arabic (``1. ⁨العنوان⁩``)."""
    if _RIGHT_TO_LEFT.search(text) is None:
        return text
    start = RLM if direction == "rtl" else ""
    lines = []
    for line in text.split("\n"):
        body = line.lstrip(" ")
        indent = line[: len(line) - len(body)]
        isolated = f"{start}{indent}{FSI}{body}{PDI}"
        lines.append(isolated if _RIGHT_TO_LEFT.search(body) else line)
    return "\n".join(lines)


FILTERS = {"sanitize": sanitize, "highlight": highlight, "wordwrap": wordwrap, "isolate": isolate}
# Types whose public attributes are all plain data a template may read (Sandbox.getattr); the
# digest's views add theirs (monitor.digest.render)
PLAIN_TYPES: set[type] = {Strings}


@dataclass(frozen=True, slots=True)
class Templates:
    """The three compiled templates, and which of them came from the user's folder."""

    subject: jinja2.Template
    text: jinja2.Template
    html: jinja2.Template
    folder: str | None = None
    overridden: frozenset[str] = frozenset()

    def by_name(self, name: str) -> jinja2.Template:
        return {SUBJECT: self.subject, TEXT: self.text, HTML: self.html}[name]


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, remembering its verdict on each (type, attribute) asked: the
    checks depend on nothing else (not on the value: see jinja2.sandbox), and a digest asks them
    about a hundred times an item, a third of its rendering time before this."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._verdicts: dict[tuple[type, str], bool] = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """The sandbox's answer, sooner for our own values (:data:`PLAIN_TYPES`): a public field
        holding data (not a method) is safe, as the sandbox would conclude after more steps."""
        if type(obj) in PLAIN_TYPES and not attribute.startswith("_"):
            value = getattr(obj, attribute, None)
            if value is not None and not callable(value):
                return value
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        key = (type(obj), attr)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = super().is_safe_attribute(obj, attr, value)
        return verdict


def environment(folder: str | None) -> ImmutableSandboxedEnvironment:
    ours = jinja2.PackageLoader("monitor.digest", "templates")
    loaders: list[jinja2.BaseLoader] = []
    if folder is not None:
        loaders.append(jinja2.FileSystemLoader(folder))
    loaders += [jinja2.PrefixLoader({DEFAULT_PREFIX: ours}), ours]
    return Sandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def compile_templates(folder: str | Path | None) -> Templates:
    """Compile the three templates; ConfigError with ``PATH:LINE: message`` for each broken one."""
    where = None if folder is None else str(folder)
    if where is not None and not Path(where).is_dir():
        raise ConfigError([f"{where}: templates: no such folder"])
    env = environment(where)
    env.filters.update(FILTERS)
    problems: list[str] = []
    compiled: dict[str, jinja2.Template] = {}
    for name in NAMES:
        try:
            compiled[name] = env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:  # unknown filters and tests land here too
            path = exc.filename or (str(Path(where or "", name)))
            problems.append(f"{path}:{exc.lineno}: {exc.message}")
        except (jinja2.TemplateError, UnicodeDecodeError, OSError) as exc:  # unreadable file
            problems.append(f"{Path(where or '', name)}:1: cannot read: {exc}")
    if problems:
        raise ConfigError(problems)
    overridden = frozenset(
        name for name in NAMES if where is not None and Path(where, name).is_file()
    )
    return Templates(
        subject=compiled[SUBJECT],
        text=compiled[TEXT],
        html=compiled[HTML],
        folder=where,
        overridden=overridden,
    )


@cache
def default_templates() -> Templates:
    """Ours, compiled once per process (they are known good: tests render them)."""
    return compile_templates(None)


def runtime_problem(template: jinja2.Template, exc: BaseException) -> str:
    """``PATH:LINE: message`` for an error raised while rendering ``template``.

    Jinja2 rewrites tracebacks so that template frames carry the template's file and line; the
    innermost such frame is where the error is (possibly an included file)."""
    line, path = 1, template.filename or template.name or "<template>"
    for frame in traceback.extract_tb(exc.__traceback__):
        if not frame.filename.endswith(".py") and frame.lineno is not None:
            path, line = frame.filename, frame.lineno
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    return f"{path}:{line}: {type(exc).__name__}: {message}"


SAMPLE_TIME = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
SAMPLE_ITEMS = (
    DigestItem(
        id="it_1",
        title="Le démarchage téléphonique encadré",
        link="https://example.ma/a/1",
        source="leseco",
        published=SAMPLE_TIME,
        summary="Les centres d'appel s'adaptent au démarchage et à l'IA.",
        rules=("demarchage", "ia"),
        terms={"demarchage": ("démarchage",), "ia": ("IA",)},
    ),
    DigestItem(
        id="it_2",
        title="",
        link="",
        source="medias24",
        published=None,
        summary="",
        rules=("ia",),
        terms={},
    ),
)
# A digest with items waiting, and a one-item digest with none: both branches of most templates
SAMPLES = (
    Digest("dg_sample", "sample", SAMPLE_TIME, SAMPLE_ITEMS, waiting=12),
    Digest("dg_sample", "sample", SAMPLE_TIME, SAMPLE_ITEMS[:1]),
)
