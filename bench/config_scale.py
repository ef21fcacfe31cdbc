"""What loading many sources costs (issue 25: 100,000 sources, `monitor check` in 3 s from a CSV
`sources_file`, 10 s from the YAML file itself; the daemon's idle RSS within 400 MB).

Usage: ``.venv/bin/python -m bench.config_scale [--sizes 10000,100000] [--runs 3]``.
Generates, in a temporary folder, for each size a configuration with its sources in a CSV
``sources_file`` and one with them in the YAML file itself (each source a name, a loopback URL
allowed by ``network.allow``, two tags: one of 100, one shared by all, as /tmp/big held when the
issue was measured), then prints for each:

- ``monitor check -c FILE`` as a new process (the console script): the best wall time of the
  runs, its CPU time (user + system) and the process's maximum RSS (``wait4``);
- the configuration objects the daemon keeps (its copy of them, monitor.core.memory.rebuilt)
  in bytes per source, measured with tracemalloc in a child process, and the RSS of a child
  that loaded them as the daemon does (arenas limited, the copy kept, the heap trimmed), beside
  one that loaded a single source.

The best run is the figure: the others measure what else the machine was doing, which the
last line tells (cores, load average). Nothing is asserted: the targets are printed beside.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MONITOR = Path(sys.executable).with_name("monitor")
TARGETS = {"csv": 3.0, "yaml": 10.0}  # seconds for 100,000 sources (issue 25)
HEAD = "storage: sqlite:///{folder}/m.db\nnetwork:\n  allow: [127.0.0.0/8]\n"
RULES = "rules:\n  - name: r\n    any: [maroc]\n"


def generate(folder: Path, count: int) -> dict[str, Path]:
    """The two configurations of ``count`` sources in ``folder``: {"csv": …, "yaml": …}."""
    folder.mkdir(parents=True, exist_ok=True)
    head = HEAD.format(folder=folder)
    with open(folder / "sources.csv", "w", encoding="utf-8") as csv:
        csv.write("name,url,tags\n")
        for i in range(count):
            csv.write(f"s{i:06},http://127.0.0.1:8999/feed/{i},t{i % 100} maroc\n")
    (folder / "csv.yaml").write_text(f"{head}sources_file: sources.csv\n{RULES}", encoding="utf-8")
    with open(folder / "yaml.yaml", "w", encoding="utf-8") as yaml:
        yaml.write(f"{head}{RULES}sources:\n")
        for i in range(count):
            yaml.write(
                f"  - name: s{i:06}\n    url: http://127.0.0.1:8999/feed/{i}\n"
                f"    tags: [t{i % 100}, maroc]\n"
            )
    return {"csv": folder / "csv.yaml", "yaml": folder / "yaml.yaml"}


def checked(config: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and maximum RSS (bytes) of one ``monitor check``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(MONITOR), "check", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        sys.exit(f"monitor check -c {config} failed:\n{error}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


MEMORY = """
import gc, resource, sys, tracemalloc
from monitor.config.load import load_config
from monitor.core import memory
traced = sys.argv[2] == "traced"
memory.limit_arenas()  # as the daemon does (monitor.cli.main)
if traced:
    tracemalloc.start()
if hasattr(memory, "rebuilt"):  # the daemon's copy since issue 25
    kept = memory.rebuilt(lambda: load_config(sys.argv[1]))
else:  # (before: the copy made beside the original, to measure the change)
    config = load_config(sys.argv[1])
    kept = memory.compact(config)
    del config
gc.collect()
memory.trim()  # as the daemon does once quiet
held = tracemalloc.get_traced_memory()[0] if traced else 0
rss = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
print(held, len(kept.sources), rss)
"""


def _held(path: Path, traced: bool) -> tuple[int, int, int]:
    """Bytes traced, sources, RSS of a process that loaded ``path`` as the daemon does."""
    done = subprocess.run(
        [sys.executable, "-c", MEMORY, str(path), "traced" if traced else "rss"],
        capture_output=True,
        text=True,
        check=True,
    )
    held, count, rss = (int(figure) for figure in done.stdout.split())
    return held, count, rss


def memory(config: Path, baseline: Path) -> tuple[float, int, int]:
    """Bytes per source of the kept configuration objects (tracemalloc; those of the
    configuration ``baseline``, of one source, taken off), and the RSS of a process holding
    them and of one holding the baseline (no tracemalloc, trimmed as the daemon is)."""
    held, count, _ = _held(config, traced=True)
    empty, _, _ = _held(baseline, traced=True)
    _, _, rss = _held(config, traced=False)
    _, _, rss_empty = _held(baseline, traced=False)
    return (held - empty) / count, rss, rss_empty


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="numbers of sources")
    parser.add_argument("--runs", type=int, default=3, help="checks of each file (best shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="config-scale-") as temporary:
        folder = Path(temporary)
        baseline = folder / "one.yaml"  # one source: what a Config costs without sources
        baseline.write_text(
            HEAD.format(folder=folder) + "sources:\n  - {name: a, url: 'https://a.example/'}\n"
        )
        print(f"{'sources':>8} {'file':<5} {'best wall':>10} {'cpu':>7} {'max RSS':>9}  target")
        for count in (int(size) for size in args.sizes.split(",")):
            configs = generate(folder / str(count), count)
            for kind, config in configs.items():
                runs = [checked(config) for _ in range(args.runs)]
                wall, cpu, rss = min(runs)
                target = f"{TARGETS[kind]:.0f} s" if count == 100_000 else ""
                print(
                    f"{count:>8} {kind:<5} {wall:>8.2f} s {cpu:>5.2f} s {rss / 2**20:>6.0f} MB"
                    f"  {target}"
                )
            per_source, rss, rss_empty = memory(configs["csv"], baseline)
            print(
                f"{count:>8} kept: {per_source:,.0f} bytes a source (tracemalloc of the daemon's "
                f"copy); a process holding them: {rss / 2**20:.0f} MB RSS "
                f"({rss_empty / 2**20:.0f} MB with one source)"
            )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} cores; load average {load}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
