"""``monitor test-rule URL`` on the URL of a configured source asks it as the daemon does: with
its headers, user agent and credentials (a site that refuses others answers it)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.support.cli import monitor
from tests.support.origins import Origin, basic

CONFIG = """storage: sqlite:///{tmp}/m.db
network:
  allow: [127.0.0.0/8]
sources:
  - name: guarded
    url: {url}
    user_agent: Veille/2.0
    headers:
      X-Api-Key: ${{API_KEY}}
    username: veille
    password: ${{FEED_PASSWORD}}
rules:
  - name: one
    any: [One]
"""


async def test_test_rule_asks_a_configured_source_with_its_options(tmp_path: Path) -> None:
    wants = {
        "x-api-key": "k-CanaryKey",
        "user-agent": "Veille/2.0",
        "authorization": basic("veille", "CanaryPw-1"),
    }
    env = {"API_KEY": "k-CanaryKey", "FEED_PASSWORD": "CanaryPw-1"}
    async with Origin(wants=wants) as site:
        path = tmp_path / "m.yaml"
        path.write_text(CONFIG.format(tmp=tmp_path, url=f"{site.url}/feed"), encoding="utf-8")
        args = ("test-rule", "-c", str(path), "--json")
        asked = await asyncio.to_thread(monitor, *args, f"{site.url}/feed", cwd=tmp_path, env=env)
        # another address of the same site is not the source: asked without its options
        other = await asyncio.to_thread(monitor, *args, f"{site.url}/other", cwd=tmp_path, env=env)
    assert asked.returncode == 0, asked.stderr
    assert [json.loads(line)["rules"] for line in asked.stdout.splitlines()] == [["one"]]
    assert other.returncode == 1 and "401" in other.stderr
    assert [a.headers.get("x-api-key") for a in site.asked] == ["k-CanaryKey", None]
    assert "Canary" not in asked.stdout + asked.stderr + other.stdout + other.stderr
