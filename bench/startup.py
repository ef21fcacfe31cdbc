"""How long the command line takes to answer (issue 22: `monitor --help` and `monitor check`
on the example configuration in 0.4 s or less).

Usage: ``.venv/bin/python -m bench.startup [--runs N] [--config PATH]``. Runs each command N
times as a new process, as a user's shell would (the console script in the venv), and prints
for each the best and median wall time and the CPU time of the best run, with the cores the
machine has and its load average at the end. The best run is the figure: the others measure
what else the machine was doing. Exit status 1 when a best run is over the target.

The commands run as an installed program does: with Python's compiled bytecode of monitor's
modules cached (a first, unmeasured run writes it), even where the environment sets
PYTHONDONTWRITEBYTECODE (some sandboxes and CI images do: each start then compiles every
module from source, about 0.1 s more; `--no-cache` measures that).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 0.4  # seconds
ROOT = Path(__file__).resolve().parent.parent
MONITOR = Path(sys.executable).with_name("monitor")


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """Best wall time, median wall time and the CPU time of the best run, in seconds."""
    walls: list[tuple[float, float]] = []
    subprocess.run(command, cwd=ROOT, capture_output=True, check=False, env=env)  # (warm-up)
    for _ in range(runs):
        cpu = _child_cpu()
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False, env=env)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)}: exit {done.returncode}\n{done.stderr.decode()}")
        walls.append((wall, _child_cpu() - cpu))
    best = min(walls)
    return best[0], statistics.median(wall for wall, _ in walls), best[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--config", default="config/monitor.yaml")
    parser.add_argument(
        "--no-cache", action="store_true", help="no bytecode cache: every module compiled anew"
    )
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.no_cache:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        for cache in (ROOT / "monitor").rglob("__pycache__"):
            for compiled in cache.glob("*.pyc"):
                compiled.unlink()
    commands = {
        "monitor --help": [str(MONITOR), "--help"],
        f"monitor check -c {args.config}": [str(MONITOR), "check", "-c", args.config],
        "python -c pass (the floor)": [sys.executable, "-c", "pass"],
    }
    over = False
    cached = "no bytecode cache" if args.no_cache else "bytecode cached"
    print(f"{args.runs} runs each, {cached}; target {TARGET} s for the best run")
    for label, command in commands.items():
        best, median, cpu = timed(command, args.runs, env)
        mark = "" if best <= TARGET or "floor" in label else "  OVER"
        over = over or bool(mark)
        print(f"{label:<45} best {best:.3f} s  median {median:.3f} s  cpu {cpu:.3f} s{mark}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} cores; load average {load}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
