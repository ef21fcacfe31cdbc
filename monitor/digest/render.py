"""Rendering a digest: subject line, plain text and HTML (DESIGN §3.6, issue 4).

Building the Digest (grouping claimed outbox rows) is the outbox's job; this module turns one
into text, in the subscriber's language (``fr``/``en``/``ar``), grouped by rule or by story,
with dates in the renderer's zone. The templates are ours (``monitor/digest/templates``) or the
user's (:func:`load_templates`; what they receive: ``monitor/digest/templates/README.md``).

Everything in a Digest comes from feeds and is hostile until proven otherwise:

- titles and snippets lose their control characters and collapse to one line (a title with CR/LF
  must not break a header, nor ANSI escapes a terminal); the subject is cleaned and capped after
  rendering, whatever template produced it.

What keeps feed HTML out of the HTML digest (the guarantee, in order):

1. No feed value is ever inserted as markup. Summaries reach the digest as plain text
   (``normalize.html_to_text`` at ingestion); titles, links, sources and snippets are plain
   strings too. The HTML template is autoescaped and highlighted snippets are passed as
   (text, hit) parts that the ``highlight`` filter escapes; nothing is marked ``|safe``.
2. A link becomes an ``href`` only when it is http(s) with a host (:func:`safe_href`);
   ``javascript:``, ``data:`` and relative links are shown as text.
3. A second net: the item list, the only part of the page that carries feed text, goes through
   nh3 with an allow-list of exactly the tags, attributes, CSS properties and URL schemes our
   template writes (``templating.SANITIZER``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from monitor.config.model import Config
from monitor.config.subscribers import Language, SubscriberConfig
from monitor.core.errors import ConfigError
from monitor.core.logs import event
from monitor.core.models import Digest
from monitor.digest.i18n import (
    LANGUAGES,
    count_text,
    direction,
    strings,
    waiting_short,
    waiting_text,
)
from monitor.digest.snippets import (
    clean_line,
    safe_href,
    snippet,
    split_parts,
)
from monitor.digest.templating import (
    HTML,
    SAMPLES,
    SANITIZER,
    SUBJECT,
    TEXT,
    Templates,
    compile_templates,
    default_templates,
    runtime_problem,
    sanitize,
)
from monitor.digest.views import Profile, Views, rules_of

__all__ = [
    "SANITIZER",
    "Profile",
    "Renderer",
    "Templates",
    "clean_line",
    "load_templates",
    "safe_href",
    "sanitize",
    "snippet",
    "split_parts",
]

SUBJECT_MAX = 200


@dataclass(slots=True)
class _Shared:
    """What the renderings of one digest for one profile share."""

    digest: Digest
    profile: Profile
    context: dict[str, object]
    subject: str | None = None


class Renderer:
    """Renders digests with ``templates`` (ours by default); dates are shown in ``zone``.

    Each digest is rendered for its subscriber: language and grouping come from the
    ``subscribers`` given (a subscriber without a language takes ``language``)."""

    def __init__(
        self,
        zone: ZoneInfo,
        *,
        language: Language = "fr",
        templates: Templates | None = None,
        subscribers: Iterable[SubscriberConfig] = (),
        rule_order: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.zone = zone
        self.language: Language = language
        self.templates = templates or default_templates()
        self.profiles = {s.name: Profile(s.language or language, s.group_by) for s in subscribers}
        self.rule_order = tuple(rule_order)
        # the last digest's context and subject line: its subject, text and HTML are rendered
        # one after the other (the text and HTML each show the subject too) and share them
        # (templates run in an immutable sandbox, so none can change them for the next)
        self._last: _Shared | None = None
        # what the templates show of each item, kept for reuse; rules shown by their label
        self.views = Views(zone, labels)

    @classmethod
    def for_config(cls, config: Config, templates: Templates | None = None) -> Renderer:
        return cls(
            config.zone,
            language=config.language,
            templates=templates,
            subscribers=config.subscribers,
            rule_order=[rule.name for rule in config.rules],
            labels={rule.name: rule.label for rule in config.rules if rule.label},
        )

    def profile(self, subscriber: str) -> Profile:
        return self.profiles.get(subscriber) or Profile(self.language)

    def subject(self, digest: Digest, profile: Profile | None = None) -> str:
        """E.g. ``[veille] 3 nouveaux articles — demarchage, ia``; one line, at most 200 chars."""
        shared = self._shared(digest, profile or self.profile(digest.subscriber))
        if shared.subject is None:
            shared.subject = self._subject(digest, shared.profile)
        return shared.subject

    def _subject(self, digest: Digest, profile: Profile) -> str:
        line = clean_line(self.render(SUBJECT, digest, profile))
        if not line:  # a user template that rendered nothing: ours says something useful
            line = clean_line(self._render(default_templates().subject, digest, profile, SUBJECT))
        if len(line) > SUBJECT_MAX:
            line = line[: SUBJECT_MAX - 1].rstrip() + "…"
        return line

    def text(self, digest: Digest, profile: Profile | None = None, preferences: str = "") -> str:
        return self.render(TEXT, digest, profile, preferences)

    def html(self, digest: Digest, profile: Profile | None = None, preferences: str = "") -> str:
        return self.render(HTML, digest, profile, preferences)

    def render(
        self, name: str, digest: Digest, profile: Profile | None = None, preferences: str = ""
    ) -> str:
        """One template; a user template failing at run time falls back to ours (logged):
        a digest is late or plain, never lost to a template bug. ``preferences``: the URL of
        the subscriber's preferences page ("" when there is none), shown in the footer."""
        template = self.templates.by_name(name)
        if name not in self.templates.overridden:
            return self._render(template, digest, profile, name, preferences)
        try:
            return self._render(template, digest, profile, name, preferences)
        except Exception as exc:  # anything a user expression can raise
            event(
                "template-error",
                level=logging.ERROR,
                subscriber=digest.subscriber,
                error=runtime_problem(template, exc),
            )
            fallback = default_templates().by_name(name)
            return self._render(fallback, digest, profile, name, preferences)

    def _render(
        self,
        template: jinja2.Template,
        digest: Digest,
        profile: Profile | None,
        name: str,
        preferences: str = "",
    ) -> str:
        chosen = profile or self.profile(digest.subscriber)
        values = self.context(digest, chosen)
        # (per message, not shared: a link carries a token for one address and one digest)
        values["preferences_url"] = preferences
        if name != SUBJECT:  # the text and HTML show the subject line as rendered
            values["subject"] = self.subject(digest, chosen)
        return template.render(values)

    def context(self, digest: Digest, profile: Profile) -> dict[str, object]:
        """What every template receives (documented in monitor/digest/templates/README.md)."""
        return dict(self._shared(digest, profile).context)

    def _shared(self, digest: Digest, profile: Profile) -> _Shared:
        last = self._last
        if last is None or last.digest is not digest or last.profile != profile:
            last = self._last = _Shared(digest, profile, self._context(digest, profile))
        return last

    def _context(self, digest: Digest, profile: Profile) -> dict[str, object]:
        words = strings(profile.language)
        sections = self.views.sections(digest.items, profile, self.rule_order)
        return {
            "language": profile.language,
            "direction": direction(profile.language),
            "t": words,
            "digest_id": clean_line(digest.id),
            "subscriber": clean_line(digest.subscriber),
            "created": self.views.format_date(digest.created, profile.language),
            "timezone": self.zone.key,
            "count": len(digest.items),
            "count_text": count_text(profile.language, len(digest.items)),
            "waiting": digest.waiting,
            "waiting_text": waiting_text(profile.language, digest.waiting),
            "waiting_short": waiting_short(profile.language, digest.waiting),
            "rules": [self.views.rule_label(rule) for rule in rules_of(digest)],
            "group_by": profile.group_by,
            "sections": sections,
            "items": [view for section in sections for view in section.items],
        }


def load_templates(folder: str | Path | None) -> Templates:
    """Compile the user's templates over ours and render each once per language, grouping and
    sample digest, so that a broken one is a ConfigError (``PATH:LINE: message``) at config load,
    not a failed digest at 08:00. Call it when the config is loaded or reloaded."""
    # (ours are compiled once per process, whatever the reloads)
    templates = default_templates() if folder is None else compile_templates(folder)
    renderer = Renderer(ZoneInfo("UTC"), templates=templates)
    # the subject first: the text and HTML show it, and would report its error again
    for names in ([SUBJECT], [TEXT, HTML]):
        problems: dict[str, None] = {}  # in order, each once
        for name in (n for n in names if n in templates.overridden):
            template = templates.by_name(name)
            for language in LANGUAGES:
                for group_by in ("rule", "story"):
                    for sample in SAMPLES:
                        try:
                            output = renderer._render(
                                template, sample, Profile(language, group_by), name
                            )
                        except Exception as exc:  # anything a user expression can raise
                            problems[runtime_problem(template, exc)] = None
                            continue
                        if name == SUBJECT and not clean_line(output):
                            problems[f"{template.filename}:1: the subject renders empty"] = None
        if problems:
            raise ConfigError(list(problems))
    return templates
