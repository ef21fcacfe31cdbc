"""The console notifier: prints each digest's text rendering on standard output."""

from __future__ import annotations

from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import TransientNotifyError
from monitor.core.models import Digest
from monitor.digest.render import clean_line
from monitor.notifiers.base import NotifierContext


class ConsoleNotifier:
    def __init__(self, subscriber: SubscriberConfig, context: NotifierContext) -> None:
        self.subscriber = subscriber.name
        self.context = context

    async def send(self, digest: Digest) -> str:
        header = f"### digest {clean_line(digest.id)} pour {self.subscriber}"
        body = self.context.renderer.text(digest)
        try:
            self.context.stdout.write(f"{header}\n{body}")
            if not body.endswith("\n"):
                self.context.stdout.write("\n")
            self.context.stdout.flush()
        except OSError as exc:  # a closed pipe or full disk: the next attempt may succeed
            raise TransientNotifyError(f"console {self.subscriber}: {exc}") from exc
        return "printed on standard output"
