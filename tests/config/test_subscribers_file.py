"""Subscribers from a separate YAML or CSV file: loaded with the main ones, every problem located
in the file it is in, and picked up again by a reload (SIGHUP)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from monitor.cli.commands import channel_target
from monitor.config.load import load_config
from monitor.config.schedule import Schedule
from monitor.config.subscribers import SubscriberConfig
from monitor.config.subscribers_file import COLUMNS
from monitor.daemon.app import App
from tests.support.config import problems
from tests.support.peers import FakeClock

SECRET = "whsec_dG9wLXNlY3JldA=="
RULES = "rules:\n  - name: ia\n    any: [IA]\n  - name: demarchage\n    any: [démarchage]\n"
SMTP = "smtp:\n  host: 127.0.0.1\n  from: v@x.ma\n"
MAIN_SUBSCRIBER = "subscribers:\n  - name: ops\n    console: true\n"
ONE_CHANNEL = "a subscriber needs exactly one of email, webhook, console, apprise"
HEADER = "name,email,webhook,rules,digest,language,max_items,format,chat_id,group_by\n"
P = pytest.param


def write(folder: Path, subscribers_file: str, text: str, main: str = RULES + SMTP) -> Path:
    """The main configuration in ``folder`` naming ``subscribers_file``, which holds ``text``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / subscribers_file).write_text(text, encoding="utf-8")
    path = folder / "monitor.yaml"
    path.write_text(
        f"storage: sqlite:///{folder}/m.db\n{main}subscribers_file: {subscribers_file}\n",
        encoding="utf-8",
    )
    return path


def test_yaml_subscribers_are_appended_with_their_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path / "conf",
        "people.yaml",
        "- name: ana\n  email: ana@x.ma\n  rules: [ia]\n  digest: daily 08:00\n"
        "- name: hook\n  webhook: https://${HOOK_HOST}/in\n  secret: ${HOOK_SECRET}\n",
        main=RULES + SMTP + MAIN_SUBSCRIBER,
    )
    config = load_config(path, env={"HOOK_HOST": "h.example", "HOOK_SECRET": SECRET})
    assert [(s.name, s.channel) for s in config.subscribers] == [
        ("ops", "console"),
        ("ana", "email"),
        ("hook", "webhook"),
    ]
    ana, hook = config.subscribers[1:]
    assert (ana.rules, ana.digest) == (["ia"], Schedule("daily", hour=8))
    assert hook.webhook == "https://h.example/in"
    assert hook.secret is not None and hook.secret.get_secret_value() == SECRET
    # relative to the configuration's folder, not to the working directory
    assert config.subscribers_file == str(tmp_path / "conf" / "people.yaml")


def test_csv_subscribers_with_every_column_and_defaults(tmp_path: Path) -> None:
    text = (
        "\ufeff"  # spreadsheets start UTF-8 CSV with a byte order mark
        + HEADER
        + "ana,ana@x.ma,,ia;demarchage,daily 08:00,en,10,,,story\n"
        + "bob,bob@x.ma,,,,,,,,\n"
        + "\n"  # blank lines are skipped
        + 'tg,,https://api.telegram.org/bot${TOKEN}/sendMessage,ia | demarchage,"every 30m",'
        + ",,telegram,-100123,\n"
    )
    config = load_config(write(tmp_path, "list.csv", text), env={"TOKEN": "42:abc"})
    ana, bob, tg = config.subscribers
    assert ana.rules == ["ia", "demarchage"] and tg.rules == ["ia", "demarchage"]
    assert (ana.digest, ana.language, ana.max_items, ana.group_by) == (
        Schedule("daily", hour=8),
        "en",
        10,
        "story",
    )
    # an empty cell keeps the default
    assert (bob.rules, bob.digest, bob.language, bob.max_items) == (
        None,
        Schedule("immediate"),
        None,
        50,
    )
    assert (tg.format, tg.chat_id, tg.digest.every) == (
        "telegram",
        "-100123",
        timedelta(minutes=30),
    )
    assert tg.webhook == "https://api.telegram.org/bot42:abc/sendMessage"


def test_csv_with_semicolons_quoted_cells_and_other_columns(tmp_path: Path) -> None:
    # a spreadsheet set to French separates cells with ';': rules then use '|'
    text = (
        "Name;Webhook;Secret;Rules\n"
        'hook;https://h.example/in;${S};ia|demarchage\n"multi\nline";;;\n'
        "term;;;\n"
    )
    path = write(tmp_path, "s.csv", text)
    assert problems(path, {"S": SECRET}) == [
        f"{tmp_path}/s.csv:3:1: subscribers[1].name: a name is letters, digits, '_', '.' and "
        "'-' only (no spaces)",
        f"{tmp_path}/s.csv:3:1: subscribers[1]: {ONE_CHANNEL}",
        f"{tmp_path}/s.csv:5:1: subscribers[2]: {ONE_CHANNEL}",  # a row after a 2-line cell
    ]
    path.with_name("s.csv").write_text("name;console\nterm;yes\n", encoding="utf-8")
    [term] = load_config(path, env={}).subscribers
    assert (term.name, term.channel) == ("term", "console")


def test_five_hundred_csv_subscribers(tmp_path: Path) -> None:
    rows = "".join(f"user{i},user{i}@example.ma,,ia,daily 08:00,,,,,\n" for i in range(500))
    config = load_config(write(tmp_path, "many.csv", HEADER + rows), env={})
    assert len(config.subscribers) == 500
    assert config.subscribers[-1].email == "user499@example.ma"
    assert {s.rules == ["ia"] for s in config.subscribers} == {True}


# (file name, its text, the expected problems after "<folder>/"), with RULES and SMTP in the
# main configuration and one console subscriber named "ops" there
CSV_ERRORS = [
    P(
        "name,email,colour\n",
        ["1:3: (header): unknown column 'colour' (expected some of " + ", ".join(COLUMNS) + ")"],
        id="unknown-column",
    ),
    P("email,rules\n", ["1:1: (header): missing column 'name'"], id="no-name-column"),
    P(
        "name,rules\n",
        ["1:1: (header): no channel column: one of email, webhook, console, apprise"],
        id="no-channel-column",
    ),
    P("name,email,Email\n", ["1:3: (header): duplicate column 'email'"], id="duplicate-column"),
    P(
        "name,email,webhook\nana,a@x.ma,\nbob,,ftp://x/y\n",
        [
            "3:3: subscribers[1].webhook: expected an absolute http:// or https:// URL "
            "(scheme 'ftp')"
        ],
        id="bad-cell",
    ),
    P(
        "name,email,rules\nana,a@x.ma,ia;nope\n",
        ["2:3: subscribers[0].rules[1]: unknown rule 'nope'"],
        id="unknown-rule",
    ),
    P(
        "name,webhook,console\nana,https://h.ma/x,true\n",
        [f"2:1: subscribers[0]: {ONE_CHANNEL} (found webhook, console)"],
        id="two-channels",
    ),
    P("name,email\n,a@x.ma\n", ["2:1: subscribers[0].name: missing required key"], id="no-name"),
    P(
        "name,email\nops,a@x.ma\nana,a@x.ma\nana,b@x.ma\n",
        [
            "2:1: subscribers[0].name: duplicate name 'ops'",  # also in the main file
            "4:1: subscribers[2].name: duplicate name 'ana'",
        ],
        id="duplicate-names",
    ),
    P(
        "name,email,max_items\nana,a@x.ma,lots\n",
        [
            "2:3: subscribers[0].max_items: Input should be a valid integer, unable to parse "
            "string as an integer"
        ],
        id="type",
    ),
    P(
        "name,email\nana,a@x.ma,extra\n",
        ["2:3: subscribers[0]: 3 cells but 2 columns (quote a cell holding ',')"],
        id="extra-cell",
    ),
    P(
        "name,webhook\nana,https://h.ma/${MISSING_TOKEN}\n",
        ["2:2: subscribers[0].webhook: environment variable MISSING_TOKEN is not set"],
        id="missing-variable",
    ),
    P(
        "name,console\nana,no\n",
        ["2:2: subscribers[0].console: Input should be True"],
        id="console-not-true",
    ),
]

YAML_ERRORS = [
    P(
        "- name: ana\n  email: a@x.ma\n  colour: red\n",
        ["3:3: subscribers[0].colour: unknown key"],
        id="unknown-key",
    ),
    P(
        "- name: ana\n  console: true\n- name: bob\n  console: true\n  rules: [ia, nope]\n",
        ["5:15: subscribers[1].rules[1]: unknown rule 'nope'"],
        id="unknown-rule",
    ),
    P(
        "- name: ops\n  email: a@x.ma\n",
        ["1:9: subscribers[0].name: duplicate name 'ops'"],
        id="duplicate-across-files",
    ),
    P(
        "- name: hook\n  webhook: https://h.ma/x\n  secret: ${MISSING_SECRET}\n",
        ["3:11: subscribers[0].secret: environment variable MISSING_SECRET is not set"],
        id="missing-variable",
    ),
    P(
        "- name: ana\n   email: a@x.ma\n",
        [
            "2:9: invalid YAML: a ': ' where no key can start: this line is indented more "
            "than the key above it allows, or a value holding ': ' needs quotes\n"
            "  2 |    email: a@x.ma\n"
            "    |         ^"
        ],
        id="syntax",
    ),
    P(
        "subscribers:\n  - name: ana\n",
        ["1:1: a subscribers file is a list of subscribers, like 'subscribers:'"],
        id="not-a-list",
    ),
    P("- name: ana\n", [f"1:3: subscribers[0]: {ONE_CHANNEL}"], id="no-channel"),
]


@pytest.mark.parametrize(("text", "expected"), CSV_ERRORS)
def test_each_csv_error_is_located_in_the_file(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, "people.csv", text, main=RULES + SMTP + MAIN_SUBSCRIBER)
    assert problems(path) == [f"{tmp_path}/people.csv:{line}" for line in expected]


@pytest.mark.parametrize(("text", "expected"), YAML_ERRORS)
def test_each_yaml_error_is_located_in_the_file(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, "people.yaml", text, main=RULES + SMTP + MAIN_SUBSCRIBER)
    assert problems(path) == [f"{tmp_path}/people.yaml:{line}" for line in expected]


def test_problems_of_both_files_come_together_main_file_first(tmp_path: Path) -> None:
    # no smtp section: the email subscribers of both files need one
    main = RULES + "subscribers:\n  - name: ops\n    email: o@x.ma\n    rules: [nope]\n"
    path = write(tmp_path, "people.csv", "name,email\nana,a@x.ma\n", main=main)
    assert problems(path) == [
        f"{path}:9:12: subscribers[0].email: an email subscriber needs an 'smtp' section",
        f"{path}:10:13: subscribers[0].rules[0]: unknown rule 'nope'",
        f"{tmp_path}/people.csv:2:2: subscribers[0].email: an email subscriber needs an 'smtp' "
        "section",
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("absent.csv", "cannot read {folder}/absent.csv: No such file or directory"),
        ("people.txt", "expected a .yaml, .yml or .csv file, not '{folder}/people.txt'"),
        ("monitor.yaml", "the subscribers file cannot be the configuration itself"),
    ],
)
def test_a_subscribers_file_that_cannot_be_used_is_named(
    tmp_path: Path, name: str, message: str
) -> None:
    path = write(tmp_path, "people.txt", "")
    text = path.read_text().replace("people.txt", name)
    path.write_text(text)
    line = text.count("\n")  # subscribers_file is the last line
    assert problems(path) == [
        f"{path}:{line}:19: subscribers_file: {message.format(folder=tmp_path)}"
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"email": "ana@x.ma"}, "email ana@x.ma"),
        (
            {"webhook": "https://user:pw@hooks.example.com/T0/B1/s3cr3t?token=zz"},
            "webhook hooks.example.com",
        ),
        ({"console": True}, "console"),
        ({"apprise": SecretStr("tgram://123:s3cr3t/456")}, "apprise tgram"),
        ({"apprise": SecretStr("s3cr3t-without-scheme")}, "apprise ?"),
    ],
)
def test_channel_target_never_shows_a_token(fields: dict[str, object], expected: str) -> None:
    shown = channel_target(SubscriberConfig.model_validate({"name": "x", **fields}))
    assert shown == expected
    assert "s3cr3t" not in shown and "pw" not in shown


async def test_a_reload_picks_up_the_subscribers_file(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", "name,console\nana,true\n", main=RULES)
    async with App(load_config(path, env={}), clock=FakeClock(), config_path=path) as app:
        assert set(app.in_force().subscribers) == {"ana"}
        (tmp_path / "people.csv").write_text("name,console,rules\nana,true,ia\nbob,true,\n")
        await app.reload_from_file()
        assert set(app.in_force().subscribers) == {"ana", "bob"}
        assert app.in_force().subscribers["ana"].rules == ["ia"]
        assert [s.name for s in app.config.subscribers] == ["ana", "bob"]
        # a broken file is refused and the running subscribers stay
        (tmp_path / "people.csv").write_text("name,console\nana,true\nana,true\n")
        await app.reload_from_file()
        assert set(app.in_force().subscribers) == {"ana", "bob"}
