"""A webhook receiver that answers 410 Gone: the subscriber is disabled, what it is owed is
held (not dropped), and a new address in the configuration resumes delivery."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.core.errors import ConfigError
from monitor.daemon.app import App
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss


@pytest.mark.slow
async def test_410_disables_then_a_new_address_gets_everything_held(tmp_path: Path) -> None:
    feeds, gone, fresh = FeedServer(), WebhookReceiver(statuses=[410]), WebhookReceiver()
    for peer in (feeds, gone, fresh):
        await peer.start()
    try:
        clock = FakeClock()
        feeds.resources["/f"] = Resource(
            rss(
                [
                    {
                        "title": "L'IA et le démarchage",
                        "link": "https://x.ma/1",
                        "published": clock.now,
                    }
                ]
            )
        )
        config = build_config(tmp_path, {"f": f"{feeds.url}/f"}, webhook_subscriber(gone.url))
        async with App(config, clock=clock) as app:
            _, sends = await app.run_once()
            assert [s.result for s in sends] == ["disabled"]
            status = (await app.standing.status(["ops"]))[0]
            assert status.disabled is not None and "410" in status.disabled
            assert (status.pending, status.dead) == (1, 0)

            clock.advance(timedelta(hours=3))
            feeds.resources["/f"] = Resource(
                rss(
                    [
                        {
                            "title": "L'IA et le démarchage",
                            "link": "https://x.ma/1",
                            "published": clock.now - timedelta(hours=3),
                        },
                        {
                            "title": "Un call center et l'IA",
                            "link": "https://x.ma/2",
                            "published": clock.now,
                        },
                    ]
                )
            )
            _, sends = await app.run_once()
            assert sends == []  # held: nothing more goes to a receiver that is gone
            assert len(gone.requests) == 1

            await app.reload(
                build_config(tmp_path, {"f": f"{feeds.url}/f"}, webhook_subscriber(fresh.url))
            )
            clock.advance(timedelta(hours=3))  # past the held digest's retry time
            _, sends = await app.run_once()
            assert {s.result for s in sends} == {"sent"}
        links = sorted(i["link"] for r in fresh.accepted() for i in json.loads(r.body)["items"])
        assert links == ["https://x.ma/1", "https://x.ma/2"]
        assert json.loads(fresh.accepted()[0].body)["id"] == json.loads(gone.requests[0].body)["id"]
    finally:
        for peer in (feeds, gone, fresh):
            await peer.close()


@pytest.mark.slow
async def test_a_reload_that_cannot_run_changes_nothing(tmp_path: Path) -> None:
    feeds, receiver = FeedServer(), WebhookReceiver()
    await feeds.start()
    await receiver.start()
    try:
        clock = FakeClock()
        feeds.resources["/f"] = Resource(rss([]), etag='"v1"')
        config = build_config(tmp_path, {"f": f"{feeds.url}/f"}, webhook_subscriber(receiver.url))
        broken = build_config(
            tmp_path,
            {"f": f"{feeds.url}/moved"},
            "  - name: a\n    email: a@x.ma\n",
            'smtp:\n  host: 127.0.0.1\n  from: "no address here"\n',
        )
        async with App(config, clock=clock) as app:
            await app.run_once()
            with pytest.raises(ConfigError):
                await app.reload(broken)
            state = (await app.store.states(["f"]))["f"]
            assert (state.url, state.etag) == (f"{feeds.url}/f", '"v1"')  # store untouched
            assert app.config is config
            await app.run_once()
        assert feeds.not_modified["/f"] == 1
    finally:
        await feeds.close()
        await receiver.close()
