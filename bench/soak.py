"""Soak benchmark: the real daemon against 1,000 loopback feeds, a third hostile, for minutes.

    python -m bench.soak [--feeds 1000] [--minutes 10] [--interval 10s] [--sample 5s]

The feed server and webhook receiver (bench.hostile_server) run in this process on 127.0.0.1;
the daemon runs as a child process (``python -m monitor run``) so that its own RSS, descriptors and
threads can be read from /proc. Polls are counted from the daemon's ``poll source=…`` log lines.
Prints peak RSS, RSS growth per 1,000 polls after warm-up, descriptors, threads and (when the
daemon logs ``heartbeat tasks=N``) asyncio tasks at start and end, then a verdict against the goal:
growth under 1 MB per 1,000 polls, descriptors and tasks flat. Exit status 0 when it holds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from bench import procfs
from bench.hostile_server import SoakServer, write_config
from monitor.core.units import parse_duration

GOAL_MB_PER_1000_POLLS = 1.0
START_TIMEOUT = 60.0  # seconds for the daemon to log its "start" event
STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL
_POLL = re.compile(r"^\S+ \w+ poll source=(\S+) result=(\S+)")
_EVENT = re.compile(r"^\S+ (warning|error|critical) (\S+)")
_START = re.compile(r"^\S+ info start ")
_TASKS = re.compile(r"\bheartbeat\b.*\btasks=(\d+)")


@dataclass
class Tally:
    """What the daemon's stderr said so far."""

    started: bool = False
    polls: Counter[str] = field(default_factory=Counter)  # by result
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)  # warnings and errors other than polls
    examples: dict[str, str] = field(default_factory=dict)  # the first line of each of those
    sent: int = 0
    tasks: int | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=15))

    def read(self, line: str) -> None:
        self.tail.append(line[:400])
        if found := _POLL.match(line):
            name, result = found.groups()
            self.polls[result] += 1
            kind = name.split("-", 2)[-1]
            self.by_kind.setdefault(kind, Counter())[result] += 1
        elif found := _EVENT.match(line):
            self.events[f"{found[1]} {found[2]}"] += 1
            self.examples.setdefault(f"{found[1]} {found[2]}", line[:300])
        self.started = self.started or _START.match(line) is not None
        if " delivery " in line and "result=sent" in line:
            self.sent += 1
        if found := _TASKS.search(line):
            self.tasks = int(found[1])


@dataclass
class Sample:
    at: float  # seconds since the daemon started
    rss_kb: int
    peak_kb: int  # VmHWM: the kernel's high-water mark
    fds: int
    threads: int
    polls: int
    tasks: int | None
    children_kb: int  # RSS of the daemon's child processes (parse workers), if any


def take_sample(pid: int, at: float, tally: Tally) -> Sample | None:
    try:
        status = procfs.status(pid)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        children = procfs.rss_kb(procfs.children(pid))
    except (OSError, KeyError):
        return None  # the process is gone
    return Sample(
        at,
        procfs.kb(status["VmRSS"]),
        procfs.kb(status["VmHWM"]),
        fds,
        int(status["Threads"]),
        sum(tally.polls.values()),
        tally.tasks,
        children,
    )


def _die_with_parent() -> None:
    """In the child: SIGTERM when the benchmark dies, even by SIGKILL (Linux prctl)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def read_stderr(stream: asyncio.StreamReader, tally: Tally) -> None:
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # a line over the limit: dropped
            continue
        if not line:
            return
        tally.read(line.decode("utf-8", "replace").rstrip())


async def stop_daemon(proc: asyncio.subprocess.Process) -> tuple[int | None, float]:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT; the exit status and the seconds it took."""
    began = time.monotonic()
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return proc.returncode, time.monotonic() - began


async def soak(args: argparse.Namespace) -> int:
    duration = args.minutes * 60.0
    every = parse_duration(args.sample).total_seconds()
    server = SoakServer(args.feeds, parse_duration(args.interval).total_seconds())
    url = await server.start()
    tally = Tally()
    samples: list[Sample] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        config = write_config(Path(tmp), url, args.feeds, args.interval, args.timeout)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "monitor", "run", "-c", str(config)),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 20,
            cwd=tmp,
            start_new_session=True,  # Ctrl-C reaches this script only, which stops the daemon
            preexec_fn=_die_with_parent,
        )
        assert proc.stderr is not None
        reader = asyncio.create_task(read_stderr(proc.stderr, tally))
        print(f"soak: {args.feeds} feeds at {url}, daemon pid {proc.pid}, {args.minutes} min")
        try:
            samples = await _sample_loop(proc, tally, stop, duration, every)
        finally:
            code, took = await stop_daemon(proc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader, 5.0)
            reader.cancel()
            await server.close()
    print(f"daemon stopped: exit {code} {took:.1f}s after SIGTERM")
    return report(samples, tally, server, args.warmup)


async def _sample_loop(
    proc: asyncio.subprocess.Process,
    tally: Tally,
    stop: asyncio.Event,
    duration: float,
    every: float,
) -> list[Sample]:
    """Samples every ``every`` seconds from the daemon's start event to ``duration`` later."""
    deadline = time.monotonic() + START_TIMEOUT
    while not tally.started and proc.returncode is None and time.monotonic() < deadline:
        if stop.is_set():
            return []
        await asyncio.sleep(0.2)
    if not tally.started:
        print("soak: the daemon did not start:", *tally.tail, sep="\n  ", file=sys.stderr)
        return []
    began = time.monotonic()
    samples: list[Sample] = []
    print(
        f"{'t':>5} {'polls':>6} {'rss MB':>7} {'peak':>6} {'fds':>4} {'thr':>3} {'tasks':>5}",
        end="",
    )
    print(f" {'children MB':>11}")
    while proc.returncode is None and not stop.is_set():
        at = time.monotonic() - began
        sample = take_sample(proc.pid, at, tally)
        if sample is None:
            break
        samples.append(sample)
        print(
            f"{at:5.0f} {sample.polls:6d} {sample.rss_kb / 1024:7.1f} {sample.peak_kb / 1024:6.1f}"
            f" {sample.fds:4d} {sample.threads:3d} {_or_na(sample.tasks):>5}"
            f" {sample.children_kb / 1024:11.1f}",
            flush=True,
        )
        remaining = duration - at
        if remaining <= 0:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(every, remaining))
    if proc.returncode is not None:
        print(f"soak: the daemon exited early ({proc.returncode}):", *tally.tail, sep="\n  ")
    return samples


def _flat(values: list[int]) -> tuple[bool, str]:
    """Whether the last third's median is at most the first third's plus max(5, 10 %), and
    both medians: in-flight polls make descriptors and tasks wobble, a leak makes them climb."""
    third = max(1, len(values) // 3)
    first, last = statistics.median(values[:third]), statistics.median(values[-third:])
    flat = last <= first + max(5.0, first * 0.1)
    return flat, f"medians {first:g} -> {last:g}, flat: {flat}"


def _slope(xs: list[int], ys: list[float]) -> float | None:
    """Least-squares slope of ys over xs; None when xs does not vary."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def _or_na(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def _mb(kb: int) -> str:
    return f"{kb / 1024:.1f} MB"


def report(samples: list[Sample], tally: Tally, server: SoakServer, warmup: float) -> int:
    """Prints the figures and the verdict; 0 when the goal holds, 1 when not, 2 without data."""
    print("\n== polls ==")
    results = ", ".join(f"{r} {n}" for r, n in tally.polls.most_common())
    print(f"total {sum(tally.polls.values())} ({results or 'none'})")
    for kind, counts in sorted(tally.by_kind.items()):
        print(f"  {kind:14} " + ", ".join(f"{r} {n}" for r, n in counts.most_common()))
    served = ", ".join(f"{k} {n}" for k, n in server.requests.most_common())
    print(f"requests served: {served}; 304 answers {server.not_modified}")
    print(
        f"deliveries: {server.deliveries} webhook POSTs ({len(server.delivery_ids)} distinct ids, "
        f"{server.delivered_items} items); daemon logged {tally.sent} sent"
    )
    if tally.events:
        print("other warnings/errors: " + ", ".join(f"{e} x{n}" for e, n in tally.events.items()))
        print(*(f"  first {name}: {line}" for name, line in tally.examples.items()), sep="\n")
    if len(samples) < 3:
        print("verdict: NO DATA (fewer than 3 samples)")
        return 2
    start, end = samples[0], samples[-1]
    warm = next(s for s in samples if s.at >= warmup * end.at)
    after = [s for s in samples if s.at >= warm.at]
    polls = end.polls - warm.polls
    if len(after) < 4:
        print(f"\nverdict: TOO SHORT ({len(after)} samples after warm-up; 4 are needed)")
        return 2
    slope = _slope([s.polls for s in after], [s.rss_kb / 1024 for s in after])
    growth = float("nan") if slope is None else slope * 1000  # nan: no polls after warm-up
    peak = max(max(s.peak_kb, s.rss_kb) for s in samples)  # VmHWM is updated lazily
    print("\n== daemon process ==")
    print(
        f"RSS: start {_mb(start.rss_kb)}, warm-up end (t={warm.at:.0f}s, {warm.polls} polls) "
        f"{_mb(warm.rss_kb)}, end (t={end.at:.0f}s) {_mb(end.rss_kb)}, peak {_mb(peak)}"
    )
    print(
        f"child processes (parse workers) RSS: warm-up end {_mb(warm.children_kb)}, "
        f"end {_mb(end.children_kb)}"
    )
    simple = (end.rss_kb - warm.rss_kb) / 1024 / polls * 1000 if polls else float("nan")
    print(
        f"RSS growth after warm-up: {growth:.3f} MB per 1,000 polls (least squares over "
        f"{len(after)} samples); end minus warm-up: {simple:.3f} MB per 1,000 polls over {polls}"
    )
    flat = {"fds": _flat([s.fds for s in after]), "threads": _flat([s.threads for s in after])}
    print(f"fds: start {start.fds}, warm-up end {warm.fds}, end {end.fds} ({flat['fds'][1]})")
    print(f"threads: start {start.threads}, end {end.threads} ({flat['threads'][1]})")
    tasks = [(s.at, s.tasks) for s in after if s.tasks is not None]
    if len(tasks) >= 3:  # the heartbeat is logged now and then: its first value is the start
        flat["tasks"] = _flat([n for _, n in tasks])
        print(
            f"tasks (polls in flight included): first seen after warm-up {tasks[0][1]} "
            f"(t={tasks[0][0]:.0f}s), end {tasks[-1][1]} ({flat['tasks'][1]})"
        )
    else:
        print("tasks: n/a (the daemon logs no 'heartbeat tasks=N')")
    failures = [f"{name} climb" for name, (ok, _) in flat.items() if not ok]
    if not growth < GOAL_MB_PER_1000_POLLS:
        failures.insert(0, f"RSS grows {growth:.3f} MB per 1,000 polls")
    goal = f"growth < {GOAL_MB_PER_1000_POLLS:g} MB per 1,000 polls, fds/threads/tasks flat"
    verdict = "PASS" if not failures else "FAIL: " + "; ".join(failures)
    print(f"\nverdict: {verdict} (goal: {goal})")
    return 0 if not failures else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--feeds", type=int, default=1000, help="feeds served (a third hostile)")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run")
    parser.add_argument("--interval", default="10s", help="defaults.interval (10s at least)")
    parser.add_argument("--timeout", default="5s", help="network.timeout of the daemon")
    parser.add_argument("--sample", default="5s", help="time between two samples")
    parser.add_argument("--warmup", type=float, default=0.2, help="share of the run ignored")
    args = parser.parse_args(argv)
    if args.feeds < 1 or args.minutes <= 0 or not 0 <= args.warmup < 1:
        parser.error("--feeds and --minutes must be positive, --warmup in [0, 1)")
    return asyncio.run(soak(args))


if __name__ == "__main__":
    raise SystemExit(main())
