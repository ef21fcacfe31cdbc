"""The web app as the daemon serves it (monitor.daemon.serving): present only with
``http.app``, and its sessions signed with a key kept in the store, so a session survives a
restart of the daemon (and any replica on the same store would accept it)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.daemon.serving import serve_http
from monitor.store import open_engine
from monitor.store.feeds import feed_key
from monitor.store.settings import setting
from monitor.web.feeds import feed_path
from monitor.web.session import KEY_SETTING
from monitor.web.unsubscribe import KEY_SETTING as UNSUBSCRIBE_KEY
from tests.support.peers import FakeClock
from tests.support.webapp import USERS, app_config, log_in


def on_disk(tmp_path: Path, config: Config) -> Config:
    return config.model_copy(update={"storage": f"sqlite:///{tmp_path}/monitor.db", "sources": []})


async def test_a_session_outlives_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    config = on_disk(tmp_path, app_config())
    jar = aiohttp.CookieJar(unsafe=True)
    async with App(config, clock=clock) as app:
        port = await serve_http(app)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as client:
            assert (await log_in(client, "analyste", USERS["analyste"])).status == 303
    async with App(config, clock=clock) as app:
        port = await serve_http(app)
        cookies = {c.key: c.value for c in jar}
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookies=cookies) as client:
            async with client.get("/", allow_redirects=False) as page:
                assert page.status == 200
                assert "analyste" in await page.text()
    engine = await open_engine(config.storage)
    try:  # a key of its own, not the unsubscribe links' one
        web_key = await setting(engine, KEY_SETTING, "unused")
        assert web_key not in ("unused", await setting(engine, UNSUBSCRIBE_KEY, "unused"))
    finally:
        await engine.dispose()


async def test_without_http_app_the_daemon_serves_no_page(tmp_path: Path) -> None:
    config = on_disk(tmp_path, app_config())
    assert config.http is not None
    config = config.model_copy(update={"http": config.http.model_copy(update={"app": None})})
    async with App(config, clock=FakeClock()) as app:
        port = await serve_http(app)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
            # a rule's feed with its right key: the feeds are part of the app, absent too
            feed = feed_path(config.rules[0].name, await feed_key(app.store.engine))
            for path in ("/", "/login", "/api/items", feed):
                async with client.get(path, allow_redirects=False) as answer:
                    assert answer.status == 404, path
            async with client.get("/healthz") as answer:
                assert answer.status in (200, 503)  # the rest of the server is there
