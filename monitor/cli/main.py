"""The command line (DESIGN §3.1): check, run, test-rule, digest, status, retry, notify,
subscribers, sources, feeds, db, demo, password."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING

from monitor.cli.parser import DEFAULT_CONFIG, build_parser

if TYPE_CHECKING:
    from monitor.config.model import Config
    from monitor.core.errors import ConfigError

# Only what parsing the command line needs is imported here: each command imports its own parts
# when it runs, so `monitor --help` and `monitor check` start in a fraction of a second
# (bench/startup.py) instead of loading the daemon, the store and aiohttp first.

_LOCATED = re.compile(r"^\S.*?:\d+(?::\d+)?: ")  # PATH:LINE[:COL]: …


def config_path(given: str | None) -> str:
    return given or os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG


def _print_problems(path: str, error: ConfigError) -> None:
    """Each problem on its line; those found after loading get the file's name in front."""
    for problem in error.problems:
        located = _LOCATED.match(problem) is not None or problem.startswith(f"{path}: ")
        print(problem if located else f"{path}: {problem}", file=sys.stderr)


def checked_config(path: str) -> Config:
    """The configuration at ``path`` with everything a command would trip on later checked now:
    the rules compiled, the templates loaded, Apprise URLs understood."""
    from monitor.config.load import load_config
    from monitor.rules.matcher import Matcher

    config = load_config(path)
    Matcher(config.rules, config.source_tags())  # what only compiling the rules finds
    if config.templates is not None:  # (ours are tested; the user's are tried on samples)
        from monitor.digest.render import load_templates

        load_templates(config.templates)  # a broken template fails here, not at 08:00
    if any(subscriber.channel == "apprise" for subscriber in config.subscribers):
        from monitor.notifiers.apprise import load_service  # (Apprise alone takes 0.3 s)

        for subscriber in config.subscribers:
            if subscriber.channel == "apprise":
                load_service(subscriber)  # an unusable Apprise URL too
    return config


def _check(args: argparse.Namespace, config: Config, path: str) -> int:
    from monitor.core.redact import redact_url
    from monitor.core.units import counted

    sources = counted(len(config.sources), "source")
    if config.sources_from == "store":  # (monitor sources load checks and writes them)
        sources = "sources in the store"
    print(
        f"{path}: valid: {sources}, "
        f"{counted(len(config.rules), 'rule')}, "
        f"{counted(len(config.subscribers), 'subscriber')}, "
        f"storage {redact_url(config.storage)}"
    )
    for warning in config.warnings():
        print(f"{path}: warning: {warning}", file=sys.stderr)
    if not args.resolve:
        return 0
    import asyncio

    from monitor.poll.resolve import resolve_command

    return asyncio.run(resolve_command(config))


def _run(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli.commands import run_command
    from monitor.core.memory import limit_arenas

    limit_arenas()  # a daemon: memory held unused for months matters (config: see main)
    return asyncio.run(run_command(config, path, once=args.once, log_level=args.log_level))


def _test_rule(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli.testrule import test_rule_command
    from monitor.config.load import load_rules_file

    candidates = load_rules_file(args.rules, config) if args.rules else ()
    return asyncio.run(
        test_rule_command(
            config,
            args.source,
            args.rule,
            as_json=args.json,
            candidates=candidates,
            backtest=args.backtest,
        )
    )


def _digest(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli.commands import digest_command
    from monitor.cli.subscribers import in_force

    async def digest() -> int:  # (a subscriber who signed up, or its own choices, too)
        return await digest_command(await in_force(config), args.subscriber, args.format)

    return asyncio.run(digest())


def _status(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli.commands import history_command
    from monitor.cli.status import status_command
    from monitor.cli.subscribers import in_force

    async def status() -> int:  # (subscribers who signed up too)
        served = await in_force(config)
        if args.subscriber:
            return await history_command(served, args.subscriber)
        return await status_command(
            served, source=args.source, failing=args.failing, limit=args.limit
        )

    return asyncio.run(status())


def _retry(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli.commands import retry_command
    from monitor.cli.subscribers import in_force

    async def retry() -> int:  # (subscribers who signed up too)
        return await retry_command(await in_force(config), args.subscriber)

    return asyncio.run(retry())


def _subscribers(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli import subscribers
    from monitor.cli.commands import subscribers_command

    actions: dict[str | None, Callable[[], Coroutine[object, object, int]]] = {
        None: lambda: subscribers_command(config),
        "reset": lambda: subscribers.reset_command(config, args.name),
        "remove": lambda: subscribers.remove_command(config, args.address),
        "export": lambda: subscribers.export_command(config),
    }
    return asyncio.run(actions[args.subscribers_command]())


def _db(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli.commands import db_upgrade_command

    return asyncio.run(db_upgrade_command(config))


def _notify(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli.notify import notify_test_command

    return asyncio.run(notify_test_command(config, args.subscriber))


def _feeds(args: argparse.Namespace, config: Config, path: str) -> int:
    import asyncio

    from monitor.cli.feeds import feeds_command

    return asyncio.run(feeds_command(config, rotate=args.action == "rotate-key"))


def _sources(args: argparse.Namespace, config: Config, path: str) -> int:
    if args.action == "load":
        import asyncio

        from monitor.cli.sources import load_command

        return asyncio.run(load_command(config, args.file, path))
    from monitor.cli.sources import sources_command

    return sources_command(config, args.opml)


Command = Callable[[argparse.Namespace, "Config", str], int]
COMMANDS: dict[str, Command] = {
    "check": _check,
    "run": _run,
    "test-rule": _test_rule,
    "digest": _digest,
    "status": _status,
    "retry": _retry,
    "notify": _notify,
    "subscribers": _subscribers,
    "sources": _sources,
    "feeds": _feeds,
    "db": _db,
}


def _demo(args: argparse.Namespace) -> int:
    """``monitor demo``: its own configuration, in a folder of its own."""
    import asyncio

    try:
        from monitor.demo.run import run_demo  # (the daemon: what this command needs)

        return asyncio.run(run_demo(args.every, args.duration))
    except KeyboardInterrupt:  # before its signal handlers were installed
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    from monitor.core.errors import ConfigError, NoStore, StoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "test-rule" and (args.source is None) == (args.backtest is None):
        parser.error("test-rule needs a SOURCE or --backtest DURATION (not both)")
    if args.command == "notify" and not args.test:
        parser.error("notify: only --test is supported (monitor notify SUBSCRIBER --test)")
    if args.command == "demo":
        return _demo(args)
    if args.command == "password":  # no configuration needed
        from monitor.cli.password import password_command

        return password_command()
    path = config_path(args.config)
    if not os.path.exists(path):
        where = "" if os.path.isabs(path) else f" (in {os.getcwd()})"
        print(
            f"{path}: no such file{where}: name the configuration with -c PATH or "
            f"$MONITOR_CONFIG (default: {DEFAULT_CONFIG}, from the checkout's folder)",
            file=sys.stderr,
        )
        return 2
    try:
        # (the daemon once copied it into memory taken afresh, monitor.core.memory.rebuilt: 36
        # MB less RSS at 100,000 sources for 1.3 s more before the first poll; issue 25)
        config = checked_config(path)
    except ConfigError as exc:
        _print_problems(path, exc)
        return 2
    try:
        return COMMANDS[args.command](args, config, path)
    except ConfigError as exc:  # found while building the parts (e.g. an smtp 'from')
        _print_problems(path, exc)
        return 2
    except StoreError as exc:
        from monitor.core.redact import shown

        if isinstance(exc, NoStore):  # a read-only command (or retry) makes none: says where
            print(f"monitor: {shown(str(exc))}", file=sys.stderr)
        else:
            print(f"monitor: storage failure: {shown(str(exc))}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
