"""A daemon's rounds for the subscriber tests: a feed that publishes one numbered matching
story ("épisode N") each round, and the episodes each address received."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

from monitor.daemon.app import App
from tests.support.peers import FakeClock, FeedServer, Resource, SmtpSink, rss


class Story:
    """A feed that publishes one new matching item each time ``publish`` is called."""

    def __init__(self, feeds: FeedServer, clock: FakeClock) -> None:
        self.feeds, self.clock, self.items = feeds, clock, list[dict[str, object]]()

    def publish(self) -> None:
        n = len(self.items)
        self.items.append(
            {
                "guid": f"g{n}",
                "title": f"Le démarchage téléphonique, épisode {n}",
                "link": f"https://x.ma/{n}",
                "published": self.clock.now - timedelta(minutes=5),
            }
        )
        self.feeds.resources["/f"] = Resource(rss(self.items))


async def play_round(app: App, story: Story, clock: FakeClock) -> None:
    """Twenty minutes later, a new episode, and one pass of the daemon."""
    clock.advance(timedelta(minutes=20))
    story.publish()
    await app.run_once()


def to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [m for m in sink.messages if m["To"] == address]


def plain(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def episodes(mail: EmailMessage) -> list[int]:
    return sorted({int(n) for n in re.findall(r"épisode (\d+)", plain(mail))})
