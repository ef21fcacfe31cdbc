"""A whole daemon's configuration for tests: sources on the loopback feed server, the
example rules, a webhook subscriber signed with SECRET, and what reached the receiver."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.config.load import parse_config
from monitor.config.model import Config
from tests.support.peers import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


RULES = """
rules:
  - name: demarchage
    any: ["démarchage"]
  - name: centres-appels
    any: ["centres d'appels", "call center"]
  - name: ia
    any: ["IA", "intelligence artificielle"]
"""


def build_config(
    tmp_path: Path,
    sources: dict[str, str],
    subscribers: str,
    extra: str = "",
    allow: str = "127.0.0.0/8",
    storage: str | None = None,
) -> Config:
    lines = [
        f"storage: {storage or f'sqlite:///{tmp_path}/monitor.db'}",
        "timezone: Africa/Casablanca",
        "network:",
        f"  allow: [{allow}]",
        "  timeout: 5s",
        "sources:",
    ]
    lines += [f"  - name: {name}\n    url: {url}" for name, url in sources.items()]
    text = "\n".join(lines) + "\n" + RULES + "subscribers:\n" + subscribers + extra
    return parse_config(text, "test.yaml", {"WEBHOOK_SECRET": SECRET})


def sources_text(tmp_path: Path, sources: str, subscribers: str, network: str = "") -> str:
    """A configuration on loopback with these tests' rules, its ``sources:`` written as YAML
    (for kinds and keys ``build_config`` does not write); ``network`` goes on under
    ``network:`` (more of its keys, then other sections)."""
    return (
        f"storage: sqlite:///{tmp_path}/monitor.db\nnetwork:\n  allow: [127.0.0.0/8]\n"
        f"{network}sources:\n{sources}{RULES}subscribers:\n{subscribers}"
    )


# under network: a request and its parse may take 2 s, the lease 3 s: a poll has no time left
# for a second request (monitor.poll.budget keeps a margin of 5 s)
NO_TIME_TO_SPARE = "  timeout: 1s\ncluster:\n  lease: 3s\nlimits:\n  parse_timeout: 1s\n"


def sources_config(tmp_path: Path, sources: str, subscribers: str, network: str = "") -> Config:
    text = sources_text(tmp_path, sources, subscribers, network)
    return parse_config(text, "monitor.yaml", {"WEBHOOK_SECRET": SECRET})


def webhook_subscriber(url: str, rules: str = "") -> str:
    return (
        f"  - name: ops\n    webhook: {url}/hook\n    secret: ${{WEBHOOK_SECRET}}\n"
        f"    digest: immediate\n{rules}"
    )


def titles(receiver: WebhookReceiver) -> list[list[str]]:
    return [[i["title"] for i in json.loads(r.body)["items"]] for r in receiver.accepted()]
