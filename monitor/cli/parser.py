"""The command line's grammar: every command, its options and their types (``monitor
--help``). Nothing heavy is imported here: ``monitor --help`` answers before the daemon loads."""

from __future__ import annotations

import argparse
from datetime import timedelta

from monitor import __version__

DEFAULT_CONFIG = "config/monitor.yaml"


def _duration(value: str) -> timedelta:
    from monitor.core.units import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> int:
    """A count on the command line: a whole number, 1 or more."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return int(value)


def _seconds(value: str) -> float:
    """Seconds on the command line: ``20``, ``2.5``, or a duration (``20s``, ``2m``)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = _duration(value).total_seconds()
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not longer than 0s")
    return seconds


def _every(value: str) -> float:
    seconds = _seconds(value)
    if seconds < 1:  # (a poll a second is plenty, even of our own loopback site)
        raise argparse.ArgumentTypeError(f"{value!r} is shorter than 1s")
    return seconds


def build_parser() -> argparse.ArgumentParser:
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
        help="apply the rules to one source, URL or file, or to the stored items of a past window; "
        "each match explained; nothing written, nothing sent",
    )
    test.add_argument(
        "source", metavar="SOURCE", nargs="?", help="a configured source's name (or URL), read "
        "as the daemon reads it (its kind, selectors, options; the rules' source and tag scopes "
        "apply), or any other feed URL or a local file (scopes ignored)"
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
    status.add_argument("--source", metavar="NAME", help="this source alone, in full")
    status.add_argument(
        "--failing",
        action="store_true",
        help="only broken sources and those whose last poll failed, and troubled subscribers",
    )
    status.add_argument(
        "--limit",
        type=_positive,
        default=50,
        metavar="N",
        help="sources (and subscribers) listed at most, broken first (default: 50)",
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
    notify = commands.add_parser(
        "notify",
        parents=[common],
        help="with --test: send a sample digest through a subscriber's channel and say what "
        "its receiver answered; nothing recorded",
    )
    notify.add_argument("subscriber", metavar="SUBSCRIBER")
    notify.add_argument(
        "--test",
        action="store_true",
        help="a sample digest, marked as a test (the only kind of sending this command does)",
    )
    subscribers = commands.add_parser(
        "subscribers",
        parents=[common],
        help="each subscriber's channel, rules, schedule, state and last delivery; reset, "
        "remove, export",
    )
    actions = subscribers.add_subparsers(dest="subscribers_command", metavar="ACTION")
    reset = actions.add_parser(
        "reset",
        parents=[common],
        help="drop what a subscriber of the configuration chose itself: its configuration holds",
    )
    reset.add_argument("name", metavar="NAME")
    remove = actions.add_parser(
        "remove",
        parents=[common],
        help="erase a subscriber who signed up, with its deliveries (the right to erasure)",
    )
    remove.add_argument("address", metavar="ADDRESS")
    actions.add_parser(
        "export", parents=[common], help="every subscriber as CSV on standard output"
    )
    sources = commands.add_parser(
        "sources",
        parents=[common],
        help="the configured sources (with those of sources_file), one line each",
    )
    sources.add_argument(
        "--opml", action="store_true", help="as an OPML 2.0 file, which feed readers import"
    )
    sources.add_argument(
        "action", nargs="?", choices=["load"],
        help="load: check a CSV or OPML sources file and write it into the store "
        "(sources_from: store)",
    )  # fmt: skip
    sources.add_argument(
        "file", nargs="?", metavar="FILE", help="the file to load (default: sources_file)"
    )
    demo = commands.add_parser(
        "demo",
        help="the daemon on sample feeds served locally, with the example rules: alerts on "
        "the screen with no network; nothing kept",
    )
    demo.add_argument(
        "--every", type=_every, default=5.0, metavar="SECONDS",
        help="publish a new item, and poll, this often (default: 5; at least 1)",
    )  # fmt: skip
    demo.add_argument(
        "--duration", type=_seconds, metavar="SECONDS",
        help="stop after this long (default: at Ctrl-C)",
    )  # fmt: skip
    feeds = commands.add_parser(
        "feeds",
        parents=[common],
        help="each rule's Atom feed URL, for a feed reader; rotate-key: a new secret, every "
        "URL given before stops working",
    )
    feeds.add_argument("action", nargs="?", choices=["rotate-key"], metavar="rotate-key")
    commands.add_parser(
        "password",
        help="the hash of a password read on stdin, for a user of http.app (argon2id)",
    )
    db = commands.add_parser("db", parents=[common], help="the store's schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser(
        "upgrade",
        parents=[common],
        help="bring the store's schema to this version of monitor (stop the daemons first)",
    )
    return parser
