"""A reload's configuration loaded in a child process (monitor.daemon.loading), on real files."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.config.model import Config
from monitor.core.errors import ConfigError
from monitor.core.redact import forget_secrets, redact, remembered_secrets
from monitor.daemon import app as app_module
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


async def test_the_secrets_the_child_substituted_are_never_shown_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_HOST", "press.example")
    forget_secrets()
    config = await load_apart(write(tmp_path, ROWS))
    assert remembered_secrets() == ["press.example"]
    assert "press.example" not in redact(config.sources[0].url)


async def test_a_child_running_other_code_is_not_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon upgraded on disk since it started: the child imports the new files."""
    monkeypatch.setenv("FEED_HOST", "press.example")
    monkeypatch.setattr(loading, "CODE", "the files as they were at start")
    with pytest.raises(LoadFailed, match="code on disk changed"):
        await load_apart(write(tmp_path, ROWS))


def hanging(folder: Path) -> tuple[str, Path]:
    """A "python" that never answers, and the file where it writes its process id."""
    script, pid = folder / "hangs.sh", folder / "pid"
    script.write_text(f"#!/bin/sh\necho $$ > {pid}.part && mv {pid}.part {pid}\nexec sleep 60\n")
    script.chmod(0o755)
    return str(script), pid


def gone(pid: Path) -> bool:
    return not Path(f"/proc/{pid.read_text().strip()}").exists()


async def test_a_child_too_slow_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python, pid = hanging(tmp_path)
    monkeypatch.setattr(loading, "TIMEOUT", 0.5)
    with pytest.raises(LoadFailed, match=r"no answer in 0\.5 s"):
        await load_apart(write(tmp_path, ROWS), python)
    assert gone(pid)


async def test_a_cancelled_reload_kills_its_child(tmp_path: Path) -> None:
    python, pid = hanging(tmp_path)
    task = asyncio.create_task(load_apart(write(tmp_path, ROWS), python))
    for _ in range(200):
        if pid.exists() or task.done():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gone(pid)


async def test_a_daemons_reload_with_many_sources_goes_through_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FEED_HOST", "press.example")
    monkeypatch.setattr(loading, "APART_FROM", 100)
    children: list[Path] = []
    apart = loading.load_apart

    async def counted(path: Path, python: str) -> Config:
        children.append(path)
        return await apart(path, python)

    monkeypatch.setattr(loading, "load_apart", counted)
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
    assert children == [path, path]


async def test_two_reloads_at_once_run_one_after_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two SIGHUPs in a row: the second reload starts once the first is done (each has the
    process's switch interval to itself, and the file read last is the one in force)."""
    monkeypatch.setenv("FEED_HOST", "press.example")
    path = write(tmp_path, ROWS)
    steps: list[str] = []
    original = loading.load  # (as monitor.daemon.app calls it)

    async def noted(path: Path, sources_in_force: int) -> Config:
        steps.append("load")
        await asyncio.sleep(0.05)
        try:
            return await original(path, sources_in_force)
        finally:
            steps.append("loaded")

    monkeypatch.setattr(app_module, "load", noted)
    was = sys.getswitchinterval()
    async with App(load_config(path), clock=FakeClock(), config_path=path) as app:
        write(tmp_path, ROWS[:100])
        await asyncio.gather(app.reload_from_file(), app.reload_from_file())
        assert set(app.sources) == {f"s{n}" for n in range(100)}
    assert steps == ["load", "loaded", "load", "loaded"]
    assert sys.getswitchinterval() == pytest.approx(was, rel=0.01)
