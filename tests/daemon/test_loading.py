"""A reload's configuration loaded in a child process (monitor.daemon.loading), on real files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.core.errors import ConfigError
from monitor.daemon import loading
from monitor.daemon.app import App
from monitor.daemon.loading import APART_FROM, LoadFailed, load, load_apart
from tests.support.peers import FakeClock

CONFIG = """\
storage: "sqlite:///{folder}/m.db"
defaults: {{interval: 15m}}
rules:
  - {{name: centres, any: ["centres d'appels", "الذكاء الاصطناعي"]}}
sources_file: sources.csv
"""


def write(folder: Path, rows: list[str]) -> Path:
    (folder / "sources.csv").write_text("name,url,interval,tags\n" + "".join(rows))
    path = folder / "monitor.yaml"
    path.write_text(CONFIG.format(folder=folder))
    return path


ROWS = [f"s{n},https://${{FEED_HOST}}/f{n}.xml,,t{n % 3}\n" for n in range(300)]


async def test_the_child_loads_what_the_process_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_HOST", "press.example")  # the child's environment is the daemon's
    path = write(tmp_path, ROWS)
    config = await load_apart(path)
    assert config == load_config(path)
    assert config.sources[7].url == "https://press.example/f7.xml"
    assert config.sources[7].tags == ["t1"]


async def test_the_childs_problems_are_the_files_at_their_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_HOST", "press.example")
    path = write(tmp_path, [*ROWS[:5], "bad,ftp://x.example/feed,,\n"])
    with pytest.raises(ConfigError) as apart:
        await load_apart(path)
    with pytest.raises(ConfigError) as here:
        load_config(path)
    assert apart.value.problems == here.value.problems
    assert apart.value.problems[0].startswith(f"{tmp_path / 'sources.csv'}:7:")


@pytest.mark.parametrize(
    ("python", "said"),
    [
        ("/bin/false", "status 1"),
        ("/bin/echo", "unreadable result"),
        ("/no/python", "cannot start"),
    ],
)
async def test_a_child_that_sends_nothing_usable_is_a_load_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, python: str, said: str
) -> None:
    monkeypatch.setenv("FEED_HOST", "press.example")
    with pytest.raises(LoadFailed, match=said):
        await load_apart(write(tmp_path, ROWS), python)


async def test_many_sources_load_apart_and_a_failed_child_falls_back_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FEED_HOST", "press.example")
    path = write(tmp_path, ROWS)
    with caplog.at_level(logging.WARNING, logger="monitor"):
        few = await load(path, APART_FROM - 1, python="/bin/false")  # no child asked
        assert caplog.records == []
        many = await load(path, APART_FROM, python="/bin/false")
    assert few == many == load_config(path)
    assert [r.getMessage() for r in caplog.records] == ["reload-load-apart-failed"]


async def test_a_daemons_reload_with_many_sources_goes_through_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FEED_HOST", "press.example")
    monkeypatch.setattr(loading, "APART_FROM", 100)
    path = write(tmp_path, ROWS)
    async with App(load_config(path), clock=FakeClock(), config_path=path) as app:
        write(tmp_path, [*ROWS[1:], "new,https://other.example/feed,,\n"])
        with caplog.at_level(logging.WARNING, logger="monitor"):
            await app.reload_from_file()
            assert "s0" not in app.sources
            assert app.sources["new"].url == "https://other.example/feed"
            write(tmp_path, [*ROWS, "bad,ftp://x.example/feed,,\n"])
            await app.reload_from_file()  # refused: the sources in force stay
        assert set(app.sources) == {f"s{n}" for n in range(1, 300)} | {"new"}
    assert [r.getMessage() for r in caplog.records][:2] == ["reload-refused", "config-error"]
