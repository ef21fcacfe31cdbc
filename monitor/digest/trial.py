"""A test digest's renderings (``monitor notify --test``): the subscriber's own templates, ours
or the user's, with the subject marked (``[TEST]``, ``[اختبار]``) and a first line, in the
subscriber's language, saying that the articles are samples. The marks are added around what
the templates render, so a test is never taken for an alert, whatever the templates say."""

from __future__ import annotations

import html
import re

from monitor.core.models import Digest
from monitor.digest.i18n import direction, trial_strings
from monitor.digest.render import SUBJECT_MAX, Profile, Renderer

COMMAND = "monitor notify --test"
RLM = "\u200f"  # a right-to-left mark: a plain-text line of Arabic reads right to left
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_NOTICE_STYLE = (
    "margin:0;padding:10px 16px;background-color:#fff3cd;color:#5c4400;"
    "font-family:Arial,Helvetica,sans-serif;font-size:14px;text-align:center;"
)


class TrialRenderer(Renderer):
    """A Renderer whose every rendering says it is a test (see the module docstring)."""

    def _language(self, digest: Digest, profile: Profile | None) -> str:
        return (profile or self.profile(digest.subscriber)).language

    def notice(self, digest: Digest, profile: Profile | None = None) -> str:
        """``Envoi de test (monitor notify --test) : les articles ci-dessous sont des…``."""
        return trial_strings(self._language(digest, profile)).notice.format(command=COMMAND)

    def subject(self, digest: Digest, profile: Profile | None = None) -> str:
        # (the text and HTML templates show the subject line too: marked there as well)
        mark = trial_strings(self._language(digest, profile)).mark
        line = f"{mark} {super().subject(digest, profile)}"
        return line if len(line) <= SUBJECT_MAX else line[: SUBJECT_MAX - 1].rstrip() + "…"

    def text(self, digest: Digest, profile: Profile | None = None, preferences: str = "") -> str:
        rtl = direction(self._language(digest, profile)) == "rtl"
        notice = (RLM if rtl else "") + self.notice(digest, profile)
        return f"{notice}\n\n{super().text(digest, profile, preferences)}"

    def html(self, digest: Digest, profile: Profile | None = None, preferences: str = "") -> str:
        page = super().html(digest, profile, preferences)
        way = direction(self._language(digest, profile))
        notice = html.escape(self.notice(digest, profile))
        banner = f'\n<p dir="{way}" style="{_NOTICE_STYLE}">{notice}</p>'
        body = _BODY.search(page)
        if body is None:  # a user template without <body>: the banner comes first
            return banner.lstrip("\n") + "\n" + page
        return page[: body.end()] + banner + page[body.end() :]
