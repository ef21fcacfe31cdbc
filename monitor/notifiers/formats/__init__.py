"""Webhook body formats, keyed by a subscriber's ``format`` (DESIGN §3.5 and the chat presets).

Each is a pure builder ``build(digest, renderer, target) -> list[Request]``: the requests that
deliver one digest to that service, in order, each within the service's documented limits. The
webhook notifier sends them one after the other; the digest is delivered once all are accepted.
"""

from __future__ import annotations

from monitor.notifiers.formats import discord, generic, mattermost, ntfy, slack, teams, telegram
from monitor.notifiers.formats.base import Builder, Preset, Request, Target

FORMATS: dict[str, Preset] = {
    "generic": Preset(generic.build),
    "slack": Preset(slack.build),
    "discord": Preset(discord.build),
    "teams": Preset(teams.build),
    "mattermost": Preset(mattermost.build),
    "ntfy": Preset(ntfy.build, ntfy.check),
    "telegram": Preset(telegram.build, telegram.check),
}

__all__ = ["FORMATS", "Builder", "Preset", "Request", "Target"]
