"""The scale benchmarks' feed server (bench/scale_server.py), a bare asyncio HTTP/1.1 protocol:
what aiohttp's client (the daemon's) gets from it."""

from __future__ import annotations

import aiohttp

from bench.scale_server import ScaleFeeds
from monitor.sources.fast import parse_fast


async def test_feeds_etags_304s_and_keep_alive() -> None:
    server = ScaleFeeds(4, hosts=2, items=3, latency=0.01, publishing=0.5, interval=3600)
    await server.start()
    try:
        connector = aiohttp.TCPConnector(limit=1)  # one connection: keep-alive is used
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(server.url(2)) as response:
                body = await response.read()
                etag = response.headers["ETag"]
                assert (response.status, etag) == (200, '"2-0"')
            parsed = parse_fast(body, response.headers["Content-Type"])
            assert parsed is not None and parsed[1] == 3
            async with session.get(server.url(2), headers={"If-None-Match": etag}) as again:
                assert (again.status, await again.read()) == (304, b"")
            async with session.get(server.url(2).replace("/f2", "/nope")) as missing:
                assert missing.status == 404
        assert server.url(1).startswith("http://127.0.10.2:")  # feed 1 on the second address
        assert (server.stats.requests, server.stats.not_modified) == (3, 1)
        assert len(server.stats.polled[2]) == 2
        assert server.version(2) == 0 and server.version(1) == 0  # publishing, not yet
    finally:
        await server.close()
