"""The command line (DESIGN §3.1): check, run, test-rule, digest, status, retry, subscribers, db."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta

from monitor import __version__
from monitor.cli.commands import (
    db_upgrade_command,
    digest_command,
    history_command,
    retry_command,
    run_command,
    status_command,
    subscribers_command,
)
from monitor.cli.testrule import test_rule_command
from monitor.config.load import load_config, load_rules_file
from monitor.core.errors import ConfigError, NoStore, StoreError
from monitor.core.memory import compact, limit_arenas
from monitor.core.redact import redact_url, shown
from monitor.core.units import counted, parse_duration
from monitor.digest.render import load_templates
from monitor.notifiers.apprise import load_service
from monitor.poll.resolve import resolve_command
from monitor.rules.matcher import Matcher

DEFAULT_CONFIG = "config/monitor.yaml"
_LOCATED = re.compile(r"^\S.*?:\d+(?::\d+)?: ")  # PATH:LINE[:COL]: …


def config_path(given: str | None) -> str:
    return given or os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG


def _duration(value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor", description="Watch news sources and send digests of what matches."
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    config_help = f"configuration file (default: $MONITOR_CONFIG, else {DEFAULT_CONFIG})"
    # -c before the command or after it (monitor -c X check, monitor check -c X): the command's
    # own -c has no default, so it does not undo one given before the command
    parser.add_argument("-c", "--config", metavar="PATH", help=config_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-c", "--config", metavar="PATH", default=argparse.SUPPRESS, help=config_help
    )
    check = commands.add_parser("check", parents=[common], help="validate the configuration")
    check.add_argument(
        "--resolve",
        action="store_true",
        help="also find the feed of each kind: auto source, as a poll would (network)",
    )
    run = commands.add_parser("run", parents=[common], help="run the daemon")
    run.add_argument(
        "--once", action="store_true", help="poll every source once, send what is due, then exit"
    )
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    test = commands.add_parser(
        "test-rule",
        parents=[common],
        help="apply the rules to one URL or file, or to the stored items of a past window; "
        "each match explained; nothing written, nothing sent",
    )
    test.add_argument(
        "source", metavar="SOURCE", nargs="?", help="a feed URL or a local file (source and "
        "tag scopes of rules are ignored)"
    )  # fmt: skip
    test.add_argument("--rule", action="append", metavar="NAME", help="only this rule (repeatable)")
    test.add_argument(
        "--rules", metavar="FILE", help="candidate rules (a YAML file with rules: [...]) tested "
        "in place of the rules in force of the same name, and compared with them"
    )  # fmt: skip
    test.add_argument(
        "--backtest", metavar="DURATION", type=_duration, help="instead of SOURCE: the items "
        "the store kept from this long ago until now (e.g. 7d), with what changes"
    )  # fmt: skip
    test.add_argument("--json", action="store_true", help="one JSON object per matching item")
    digest = commands.add_parser(
        "digest", parents=[common], help="print a subscriber's pending digest without sending it"
    )
    digest.add_argument("--subscriber", required=True, metavar="NAME")
    digest.add_argument("--format", choices=["text", "html"], default="text")
    status = commands.add_parser(
        "status", parents=[common], help="sources and subscribers at a glance"
    )
    status.add_argument(
        "--subscriber", metavar="NAME", help="this subscriber's latest deliveries, one line each"
    )
    retry = commands.add_parser(
        "retry", parents=[common], help="give dead-lettered digests a fresh round of attempts"
    )
    retry.add_argument(
        "--subscriber",
        action="append",
        metavar="NAME",
        help="only this subscriber (repeatable; default: all)",
    )
    commands.add_parser(
        "subscribers",
        parents=[common],
        help="each subscriber's channel, rules, schedule, state and last delivery",
    )
    db = commands.add_parser("db", parents=[common], help="the store's schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser(
        "upgrade",
        parents=[common],
        help="bring the store's schema to this version of monitor (stop the daemons first)",
    )
    return parser


def _print_problems(path: str, error: ConfigError) -> None:
    """Each problem on its line; those found after loading get the file's name in front."""
    for problem in error.problems:
        located = _LOCATED.match(problem) is not None
        print(problem if located else f"{path}: {problem}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "test-rule" and (args.source is None) == (args.backtest is None):
        parser.error("test-rule needs a SOURCE or --backtest DURATION (not both)")
    path = config_path(args.config)
    try:
        config = load_config(path)
        Matcher(config.rules, config.source_tags())  # what only compiling the rules finds
        load_templates(config.templates)  # a broken template fails here, not at 08:00
        for subscriber in config.subscribers:
            if subscriber.channel == "apprise":
                load_service(subscriber)  # an unusable Apprise URL too
    except ConfigError as exc:
        _print_problems(path, exc)
        return 2
    if args.command == "check":
        print(
            f"{path}: valid: {counted(len(config.sources), 'source')}, "
            f"{counted(len(config.rules), 'rule')}, "
            f"{counted(len(config.subscribers), 'subscriber')}, "
            f"storage {redact_url(config.storage)}"
        )
        for warning in config.warnings():
            print(f"{path}: warning: {warning}", file=sys.stderr)
        return asyncio.run(resolve_command(config)) if args.resolve else 0
    if args.command == "run":  # a daemon: memory held unused for months matters
        limit_arenas()
        config = compact(config)  # once the checks' temporaries are gone
    commands: dict[str, Callable[[], int]] = {
        "run": lambda: asyncio.run(
            run_command(config, path, once=args.once, log_level=args.log_level)
        ),
        "test-rule": lambda: asyncio.run(
            test_rule_command(
                config,
                args.source,
                args.rule,
                as_json=args.json,
                candidates=load_rules_file(args.rules, config) if args.rules else (),
                backtest=args.backtest,
            )
        ),
        "digest": lambda: asyncio.run(digest_command(config, args.subscriber, args.format)),
        "status": lambda: asyncio.run(
            history_command(config, args.subscriber) if args.subscriber else status_command(config)
        ),
        "retry": lambda: asyncio.run(retry_command(config, args.subscriber)),
        "subscribers": lambda: asyncio.run(subscribers_command(config)),
        "db": lambda: asyncio.run(db_upgrade_command(config)),
    }
    try:
        return commands[args.command]()
    except ConfigError as exc:  # found while building the parts (e.g. an smtp 'from')
        _print_problems(path, exc)
        return 2
    except NoStore as exc:  # a read-only command (or retry) makes no store: it says where
        print(f"monitor: {shown(str(exc))}", file=sys.stderr)
        return 3
    except StoreError as exc:
        print(f"monitor: storage failure: {shown(str(exc))}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
