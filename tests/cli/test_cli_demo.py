"""Nothing needs the network to be seen working: ``monitor demo`` runs the daemon on a made-up
site served on loopback and prints alerts with their terms, then removes what it made, at the
end of --duration or at Ctrl-C; ``monitor run`` with no network says so in one line."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.demo.feeds import load_headlines
from tests.support.cli import monitor

BANNER = re.compile(
    r"demo: serving 3 feeds on http://127\.0\.0\.1:\d+, a new item every 1 s; configuration "
    r"and store in (\S+) \(removed at the end\); Ctrl-C to stop"
)
ISOLATES = dict.fromkeys(range(0x2066, 0x206A))  # around Arabic lines in a text digest


def plain(text: str) -> str:
    """White space collapsed (digests wrap long titles), isolates dropped, apostrophes
    straight."""
    return " ".join(text.translate(ISOLATES).replace("’", "'").split())


def alerts(stdout: str) -> list[str]:
    """The console digests, each as plain text up to the demo's next line."""
    return [plain(block.split("\ndemo: ")[0]) for block in stdout.split("### digest ")[1:]]


def published(stdout: str) -> list[str]:
    return [plain(title) for title in re.findall(r"^demo: new on [\w-]+: (.*)$", stdout, re.M)]


@pytest.mark.slow
def test_the_demo_prints_alerts_with_their_terms_then_removes_its_folder(tmp_path: Path) -> None:
    result = monitor("demo", "--every", "1", "--duration", "10", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    banner = BANNER.fullmatch(lines[0])
    assert banner is not None, lines[0]
    folder = Path(banner[1])
    assert lines[-1] == f"demo: stopped; {folder} removed"
    assert folder.name.startswith("monitor-demo-") and not folder.exists()
    assert list(tmp_path.iterdir()) == []  # nothing left where it ran either
    shown = alerts(result.stdout)
    # the two matching headlines already out when it starts, with the terms that matched
    assert "Démarchage téléphonique : l'interdiction" in shown[0]
    assert "termes : démarchage" in shown[0] and "termes : call center, AI" in shown[0]
    assert all("termes : " in alert for alert in shown)
    headlines = load_headlines()
    alerted = [h for h in headlines if any(plain(h.title) in alert for alert in shown)]
    assert all(h.rules for h in alerted)  # never one the rules do not match
    assert len(alerted) >= 3  # and some published while it ran
    quiet = [plain(h.title) for h in headlines if not h.rules]
    assert set(quiet) & set(published(result.stdout))  # published, and not alerted


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_ctrl_c_or_sigterm_stops_the_demo_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "demo", "--every", "1",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # a process group, as a terminal's foreground job has
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    try:
        first = await asyncio.wait_for(process.stdout.readline(), 60)
        banner = BANNER.fullmatch(first.decode().rstrip("\n"))
        assert banner is not None, first
        folder = Path(banner[1])
        assert await asyncio.to_thread(folder.is_dir)
        while not (await asyncio.wait_for(process.stdout.readline(), 30)).startswith(b"### "):
            pass  # until the first alert
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        await process.communicate()
        raise
    if sig == signal.SIGINT:
        os.killpg(process.pid, sig)  # Ctrl-C: to the whole foreground group
    else:
        process.send_signal(sig)
    rest, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors.decode()
    assert errors.decode() == ""  # no traceback, of the demo or of its parse workers
    assert rest.decode().splitlines()[-1] == f"demo: stopped; {folder} removed"
    assert not await asyncio.to_thread(folder.exists)


@pytest.mark.slow
async def test_the_daemon_with_no_network_says_so_once_and_keeps_running(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "storage: sqlite:///monitor.db\n"
        "sources:\n"
        "  - {name: leseco, url: 'https://leseco.invalid/feed/'}\n"
        "  - {name: medias24, url: 'https://medias24.invalid/feed/'}\n"
        "rules:\n  - {name: ia, any: [IA]}\n"
        "subscribers:\n  - {name: terminal, console: true, digest: immediate}\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "run", "-c", str(path),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    seen: list[str] = []
    while not seen or " no-source-reachable " not in seen[-1]:
        line = await asyncio.wait_for(process.stderr.readline(), 60)
        assert line, "the daemon exited: " + "".join(seen)
        seen.append(line.decode())
    assert seen[-1].split(" ", 2)[1:] == [
        "warning",
        'no-source-reachable polled=2 errors="name resolution (2)" check="the network, its '
        "DNS, or a proxy it needs (network.proxy); 'make demo' runs offline\"\n",
    ]
    assert sum("poll source=" in line for line in seen) == 2  # one failure each, before it
    assert process.returncode is None  # still running: it polls again when due
    process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert b"no-source-reachable" not in rest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "0.5"], "argument --every: '0.5' is shorter than 1s"),
        (["--duration", "soon"], "argument --duration: invalid duration 'soon'"),
        (["--duration", "0"], "argument --duration: '0' is not longer than 0s"),
    ],
)
def test_the_demo_refuses_a_pace_it_cannot_keep(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
