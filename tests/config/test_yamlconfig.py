"""The YAML loader: every problem as ``PATH:LINE:COL: key.path: message``, ``${VAR}`` secrets."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config.load import load_config, parse_config
from monitor.config.located import MAX_FILE_BYTES
from monitor.config.schedule import Schedule
from monitor.core.errors import ConfigError
from tests.support.paths import ROOT

EXAMPLE = ROOT / "config" / "monitor.yaml"
SMTP = "smtp:\n  host: h\n  from: a@b.ma\n"
RULE_R = "rules:\n  - name: r\n    any: [IA]\n"
SRC = "sources:\n  - name: a\n    url: "
SUB = "subscribers:\n  - name: s\n"
HOOK = SUB + "    webhook: https://h.ma/x\n"
DUR = "expected a number and s, m, h or d, like 10m"
SIZE = "expected a number and B, KB, MB or GB, like 10MB"
HTTP = "expected an absolute http:// or https:// URL"
ONE_CHANNEL = "a subscriber needs exactly one of email, webhook, console, apprise"
P = pytest.param
DAY = timedelta(days=1)

# (YAML text, the one expected line without the "m.yaml:" prefix)
ALIASES = "aliases expand it past 1,000,000 values or 64 levels of nesting"
ERRORS = [
    P(SRC + "https://a.ma/\n    colour: red\n", "4:5: sources[0].colour: unknown key", id="key"),
    P(
        "timezone: UTC\nstorag: x\n",
        "2:1: storag: unknown key (did you mean storage?)",
        id="top-key",
    ),
    P(
        "network:\n  concurrency: lots\n",
        "2:16: network.concurrency: Input should be a valid integer, unable to parse string as "
        "an integer",
        id="type",
    ),
    P("sources:\n  a: 1\n", "2:3: sources: Input should be a valid list", id="list"),
    P(
        'sources:\n  - name: "a\\n"\n    url: https://a.ma/\n',
        "2:11: sources[0].name: a name is letters, digits, '_', '.' and '-' only (no spaces)",
        id="name-with-a-newline",  # ($ matches before a final newline: the whole name must fit)
    ),
    P(
        'sources:\n  - name: ".."\n    url: https://a.ma/\n',
        "2:11: sources[0].name: '..' cannot be a name: it is a path's dot segment",
        id="dot-dot-name",  # (/sources/.. would be /, a browser drops the segment)
    ),
    P(
        "rules:\n  - name: .\n    any: [maroc]\n",
        "2:11: rules[0].name: '.' cannot be a name: it is a path's dot segment",
        id="dot-name",
    ),
    P(
        "smtp:\n  host: smtp.b.ma\n  from: v@b.ma\n" + SUB + '    email: "a@b.ma\\n"\n',
        "6:12: subscribers[0].email: not an email address: expected one address, like "
        "name@example.ma",
        id="address-with-a-newline",
    ),
    P(
        "defaults:\n  interval: 10 minutes\n",
        f"2:13: defaults.interval: invalid duration '10 minutes': {DUR}",
        id="duration",
    ),
    P(
        "defaults:\n  backfill: -5\n",
        f"2:13: defaults.backfill: invalid duration -5: {DUR}",
        id="negative-duration",
    ),
    P(
        "rules:\n  - name: r\n    any: [IA, '!!!']\n",
        "3:15: rules[0].any[1]: term '!!!' has no letter or digit, so it can never match",
        id="unmatchable-term",
    ),
    P(
        "defaults:\n  interval: 0s\n",
        "2:13: defaults.interval: a poll interval must be at least 10s",
        id="zero-interval",
    ),
    P("network:\n  timeout: 0s\n", "2:12: network.timeout: must be longer than 0s", id="no-time"),
    P("network:\n  max_bytes: 0\n", "2:14: network.max_bytes: must be larger than 0", id="no-size"),
    P(
        "network:\n  max_bytes: 10 MiB\n",
        f"2:14: network.max_bytes: invalid size '10 MiB': {SIZE}",
        id="size",
    ),
    P(
        SRC + "'https://a.ma\\feed'\n",
        "3:10: sources[0].url: URL contains a backslash or a control character",
        id="backslash",
    ),
    P(SRC + "ftp://a.ma/f\n", f"3:10: sources[0].url: {HTTP} (scheme 'ftp')", id="scheme"),
    P(
        SUB + "    webhook: /hook\n",
        f"3:14: subscribers[0].webhook: {HTTP} (scheme '')",
        id="relative",
    ),
    P(
        RULE_R + SUB + "    console: true\n    rules: [r, q]\n",
        "7:16: subscribers[0].rules[1]: unknown rule 'q'",
        id="unknown-rule",
    ),
    P(
        SRC + "https://a.ma/\n  - name: a\n    url: https://b.ma/\n",
        "4:11: sources[1].name: duplicate name 'a'",
        id="duplicate-source",
    ),
    P(
        RULE_R + "  - name: r\n    all: [AI]\n",
        "4:11: rules[1].name: duplicate name 'r'",
        id="duplicate-rule",
    ),
    P("timezone: UTC\ntimezone: UTC\n", "2:1: timezone: duplicate key", id="duplicate-key"),
    P(
        HOOK + "    console: true\n",
        f"2:5: subscribers[0]: {ONE_CHANNEL} (found webhook, console)",
        id="two-channels",
    ),
    P(SUB, f"2:5: subscribers[0]: {ONE_CHANNEL}", id="no-channel"),
    P(
        SUB + "    email: a@b.ma\n",
        "3:12: subscribers[0].email: an email subscriber needs an 'smtp' section",
        id="email-without-smtp",
    ),
    P(
        "sources:\n  - name: a\n   url: x\n",
        "3:4: invalid YAML: this line's indentation does not fit the lines above it\n"
        "  3 |    url: x\n"
        "    |    ^",
        id="yaml-syntax",
    ),
    P(
        "a:\n\t- b\n",
        "2:1: invalid YAML: a tab: YAML indents with spaces, not tabs\n  2 |  - b\n    | ^",
        id="yaml-tab",
    ),
    P("- a\n", "1:1: the configuration must be a mapping of sections", id="not-mapping"),
    P(
        "rules:\n  - name: r\n    any: [" + "{any: [" * 300 + "ia" + "]}" * 300 + "]\n",
        "3:221: nested more than 64 levels deep",  # not a RecursionError of the parser
        id="too-deep",
    ),
    P(
        "".join(f"x{i}: &a{i} [{f'*a{i - 1}' if i else 'IA'}]\n" for i in range(2000)),
        f"1:1: {ALIASES}",  # deep through aliases, shallow as written
        id="deep-aliases",
    ),
    P(
        "".join(f"x{i}: &a{i} [{f'*a{i - 1}' if i else 'IA'}]\n" for i in range(64)),
        f"1:1: {ALIASES}",  # 65 levels with the document's mapping: one too many
        id="deep-aliases-just-past",
    ),
    P(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(
            f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n" for p, c in itertools.pairwise("abcdefghi")
        ),
        f"1:1: {ALIASES}",  # a billion laughs: 9^9 values once expanded
        id="alias-bomb",
    ),
    P(
        "rules:\n  - name: r\n    any: [ia, {any: [emploi], foo: 1}]\n",
        "3:31: rules[0].any[1].foo: unknown key",
        id="group-key",
    ),
    P(
        SMTP + "  password: ${SMTP_PASSWORD}\n",
        "4:13: smtp.password: environment variable SMTP_PASSWORD is not set",
        id="missing-variable",
    ),
    P("smtp:\n  from: a@b.ma\n", "2:3: smtp.host: missing required key", id="missing-key"),
    P(
        HOOK + "    secret: abc123\n",
        "4:13: subscribers[0].secret: a webhook secret starts with 'whsec_' (Standard Webhooks)",
        id="secret-prefix",
    ),
    P(
        SUB + "    console: true\n    secret: whsec_abc\n",
        "2:5: subscribers[0]: 'secret' only applies to a webhook subscriber",
        id="secret-on-console",
    ),
    P("timezone: Mars/Olympus\n", "1:11: timezone: unknown time zone 'Mars/Olympus'", id="zone"),
    P(
        SUB + "    console: true\n    digest: hourly\n",
        "4:13: subscribers[0].digest: invalid digest schedule 'hourly': expected immediate, "
        "every 30m, daily 08:00 or weekly mon 08:00",
        id="schedule",
    ),
    P(
        "rules:\n  - name: r\n    none: [ia]\n",
        "2:5: rules[0]: a rule needs at least one term in 'any' or 'all'",
        id="rule-without-terms",
    ),
    P(
        "storage: mysql://x\n",
        "1:10: storage: expected sqlite:///PATH or postgresql://USER@HOST/DB",
        id="storage",
    ),
    P(
        "network:\n  allow: [banana]\n",
        "2:10: network.allow: 'banana' does not appear to be an IPv4 or IPv6 network",
        id="network",
    ),
    P(
        "retention:\n  text: 12h\n",
        "2:9: retention.text: must be at least 1d (got 12h)",
        id="retention-too-short",
    ),
    P(
        "retention:\n  seen: 3d\n",
        "2:9: retention.seen: must be at least 7d (got 3d)",
        id="seen-window-too-short",
    ),
    P(
        "retention:\n  text: 60d\n  seen: 30d\n",
        "3:9: retention.seen: must be at least retention.text (60d): got 30d",
        id="seen-window-under-text",
    ),
    P(
        "retention:\n  texts: 7d\n",
        "2:3: retention.texts: unknown key (did you mean text?)",
        id="retention-key",
    ),
    # a tag never calls anything (issue 19 §4): YAML's own scalar types only
    P(
        "storage: !!python/name:os.system\n",
        "1:10: storage: unknown YAML tag !!python/name:os.system (no tag is needed here)",
        id="python-tag",
    ),
    P(
        "timezone: UTC\nsources: !!python/object/apply:os.system [echo]\n",
        "2:10: sources: unknown YAML tag !!python/object/apply:os.system (no tag is needed here)",
        id="python-apply-tag",
    ),
    P(
        "storage: !vault db\n",
        "1:10: storage: unknown YAML tag !vault (no tag is needed here)",
        id="local-tag",
    ),
    P(
        "network: !net {allow: []}\n",
        "1:10: network: unknown YAML tag !net (no tag is needed here)",
        id="tag-on-a-mapping",
    ),
    P(
        "sources: !!set {a}\n",
        "1:10: sources: unknown YAML tag !!set (no tag is needed here)",
        id="set",
    ),
    P(
        "network:\n  per_host: !!int four\n",
        "2:13: network.per_host: not a valid !!int value",
        id="bad-int",
    ),
    P(
        "? [a, b]\n: 1\n",
        "1:3: a key must be a plain value, not a list or a mapping",
        id="list-key",
    ),
    P(
        "network:\n  <<: {timeout: 5s}\n",
        "2:3: network: merge keys (<<) are not supported: repeat the keys",
        id="merge-key",
    ),
    P(
        "timezone: " + "Europe/" * 1500 + "Paris\n",
        "1:11: timezone: unknown time zone 'Europe/Europe/Europe/Europe/Europe/Europ'… "
        "(10505 characters)",
        id="zone-too-long",
    ),
    P(
        "retention:\n  text: a month\n",
        f"2:9: retention.text: invalid duration 'a month': {DUR}",
        id="retention-duration",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_each_error_is_one_located_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", env={})
    assert caught.value.problems == [f"m.yaml:{expected}"]
    assert str(caught.value) == f"m.yaml:{expected}"


def test_several_errors_at_once_in_file_order() -> None:
    text = (
        "sources:\n  - name: a\n    url: https://a.ma/\n    colour: red\n"  # line 4
        + RULE_R  # lines 5-7
        + "subscribers:\n  - name: s\n    email: a@b.ma\n    rules: [q]\n"  # lines 8-11
        + "timezone: Nowhere/X\nnetwork:\n  per_host: 0\n"  # lines 12-14
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", env={})
    assert caught.value.problems == [
        "m.yaml:4:5: sources[0].colour: unknown key",
        "m.yaml:10:12: subscribers[0].email: an email subscriber needs an 'smtp' section",
        "m.yaml:11:13: subscribers[0].rules[0]: unknown rule 'q'",
        "m.yaml:12:11: timezone: unknown time zone 'Nowhere/X'",
        "m.yaml:14:13: network.per_host: Input should be greater than or equal to 1",
    ]


def test_variables_are_substituted() -> None:
    text = (
        "sources:\n  - name: a\n    url: https://${HOST}/feed\n"
        "subscribers:\n  - name: s\n    webhook: https://h.ma/x\n    secret: ${SECRET}\n"
    )
    config = parse_config(text, "m.yaml", env={"HOST": "leseco.ma", "SECRET": "whsec_c2VjcmV0"})
    assert config.sources[0].url == "https://leseco.ma/feed"
    secret = config.subscribers[0].secret
    assert secret is not None and secret.get_secret_value() == "whsec_c2VjcmV0"


def test_a_missing_variable_is_not_reported_twice() -> None:
    # the empty value would also fail the whsec_ check: only the missing variable is reported
    text = "subscribers:\n  - name: s\n    webhook: https://h.ma/x\n    secret: ${SECRET}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", env={})
    assert caught.value.problems == [
        "m.yaml:4:13: subscribers[0].secret: environment variable SECRET is not set"
    ]


def test_the_example_configuration_loads() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.timezone == "Africa/Casablanca"
    assert len(config.sources) >= 5 and len({s.name for s in config.sources}) == len(config.sources)
    assert {r.name for r in config.rules} >= {"demarchage", "ia"}
    assert [s.channel for s in config.subscribers] == ["console"]


def test_a_full_configuration_loads(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "storage: sqlite:///data/m.db\ntimezone: Europe/Paris\n"
        "network:\n  allow: [127.0.0.0/8, '::1']\n  timeout: 10s\n  max_bytes: 512KB\n"
        "defaults:\n  interval: 10m\n  backfill: 2d\n"
        "smtp:\n  host: smtp.example.com\n  port: 465\n  security: ssl\n  username: veille\n"
        "  password: ${SMTP_PASSWORD}\n  from: 'Veille <veille@example.com>'\n"
        "sources:\n  - name: leseco\n    url: https://leseco.ma/feed/\n    interval: 1h\n"
        "    tags: [maroc]\n"
        "rules:\n  - name: demarchage\n    any: ['démarchage']\n    none: ['énergie']\n"
        "    fields: [title]\n"
        "subscribers:\n  - name: analyste\n    email: analyste@example.ma\n"
        "    rules: [demarchage]\n    digest: daily 08:00\n"
        "  - name: ops\n    webhook: https://hooks.example.com/m\n    secret: ${WEBHOOK_SECRET}\n",
        encoding="utf-8",
    )
    config = load_config(path, env={"SMTP_PASSWORD": "pw", "WEBHOOK_SECRET": "whsec_eHl6"})
    assert config.network.allow == [
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1"),
    ]
    assert (config.network.timeout, config.network.max_bytes) == (timedelta(seconds=10), 512 * 1024)
    assert config.interval_of(config.sources[0]) == timedelta(hours=1)
    assert config.defaults.backfill == timedelta(days=2)
    assert config.smtp is not None and config.smtp.from_ == "Veille <veille@example.com>"
    assert config.rules[0].fields == ["title"]
    analyste, ops = config.subscribers
    assert (analyste.channel, analyste.digest) == ("email", Schedule("daily", hour=8))
    assert (ops.channel, ops.digest.immediate, ops.rules) == ("webhook", True, None)


def test_retention_defaults_to_30_days_and_takes_a_duration() -> None:
    assert parse_config("", "m.yaml", env={}).retention.text == timedelta(days=30)
    config = parse_config("retention:\n  text: 7d\n", "m.yaml", env={})
    assert config.retention.text == timedelta(days=7)
    assert parse_config("retention:\n  text: 24h\n", "m.yaml", env={}).retention.text == DAY


def test_the_seen_window_defaults_to_90_days() -> None:
    assert parse_config("", "m.yaml", env={}).retention.seen == timedelta(days=90)
    config = parse_config("retention:\n  text: 7d\n  seen: 7d\n", "m.yaml", env={})
    assert config.retention.seen == timedelta(days=7)
    # a text kept longer than 90 days, the window not written: the window is the text's
    config = parse_config("retention:\n  text: 120d\n", "m.yaml", env={})
    assert config.retention.seen == timedelta(days=120) == config.retention.text


def test_an_unreadable_file_is_one_error(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing, env={})
    [problem] = caught.value.problems
    assert problem == f"{missing}: no such file"


def test_a_file_not_in_utf8_is_located(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("sources: []\n# démarchage\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(latin, env={})
    assert caught.value.problems == [f"{latin}:2:4: not UTF-8 text (save it as UTF-8)"]


def test_a_file_past_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("w") as file:  # valid YAML all along: only its size is wrong
        file.write("sources:\n")
        line = "  - {name: s, url: 'https://x.ma/feed'}\n"
        file.write(line * (MAX_FILE_BYTES // len(line) + 1))
    with pytest.raises(ConfigError) as caught:
        load_config(huge, env={})
    assert caught.value.problems == [f"{huge}: larger than 10 MB: refused, unread"]


def test_a_subscribers_file_past_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "subs.csv").write_bytes(b"name,email\n" + b"a,a@b.ma\n" * (MAX_FILE_BYTES // 9))
    with pytest.raises(ConfigError) as caught:
        parse_config("subscribers_file: subs.csv\n", str(tmp_path / "m.yaml"), env={})
    assert caught.value.problems == [
        f"{tmp_path}/m.yaml:1:19: subscribers_file: {tmp_path}/subs.csv: larger than 10 MB: "
        "refused, unread"
    ]


def test_a_tagged_value_that_is_of_yaml_s_own_types_still_loads() -> None:
    config = parse_config("timezone: !!str UTC\nnetwork:\n  per_host: !!int 8\n", "m.yaml", {})
    assert (config.timezone, config.network.per_host) == ("UTC", 8)


def test_an_empty_file_gives_the_defaults() -> None:
    config = parse_config("", "m.yaml", env={})
    assert (config.storage, config.timezone) == ("sqlite:///data/monitor.db", "Africa/Casablanca")
    assert config.sources == [] and config.subscribers == []


PASSWORD = "hunter2-s3cr3t"
SECRET = "whsec_dG9wLXNlY3JldA=="


def test_secrets_never_appear_in_repr() -> None:
    text = (
        SMTP + "  password: ${SMTP_PASSWORD}\n"
        "subscribers:\n  - name: s\n    webhook: https://h.ma/x\n    secret: ${SECRET}\n"
    )
    config = parse_config(text, "m.yaml", env={"SMTP_PASSWORD": PASSWORD, "SECRET": SECRET})
    shown = repr(config) + str(config) + repr(config.smtp) + config.model_dump_json()
    assert PASSWORD not in shown and SECRET not in shown
    assert config.smtp is not None and config.smtp.password is not None
    assert config.smtp.password.get_secret_value() == PASSWORD


@pytest.mark.parametrize(
    "text",
    [
        # the secret is valid but another key is wrong
        SMTP + "  password: ${SMTP_PASSWORD}\n  colour: red\n",
        # the secret itself is wrong: the message names the problem, not the value
        "subscribers:\n  - name: s\n    webhook: https://h.ma/x\n    secret: ${SMTP_PASSWORD}\n",
        # the secret has the wrong type of parent
        "subscribers:\n  - name: s\n    console: true\n    secret: ${SMTP_PASSWORD}\n",
    ],
)
def test_secrets_never_appear_in_errors(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", env={"SMTP_PASSWORD": PASSWORD})
    assert caught.value.problems  # it did fail
    assert PASSWORD not in str(caught.value)


def test_arabic_is_a_language_of_digests() -> None:
    text = (
        "language: ar\n"
        "subscribers:\n  - name: a\n    console: true\n"
        "  - name: b\n    console: true\n    language: fr\n"
    )
    config = parse_config(text, "m.yaml", env={})
    assert config.language == "ar"
    assert [s.language for s in config.subscribers] == [None, "fr"]
    with pytest.raises(ConfigError) as caught:
        parse_config("language: es\n", "m.yaml", env={})
    assert caught.value.problems[0].startswith("m.yaml:1:11: language: ")
    assert "'ar'" in caught.value.problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'sources:\n  - name: a\n    url: "https://x.ma/feed\n',  # the quote never closes
            "3:10: invalid YAML: a quoted value is never closed (its closing quote is "
            "missing)\n"
            '  3 |     url: "https://x.ma/feed\n'
            "    |          ^",
        ),
        (
            "rules:\n  - name: a\n    any: [x, y\n",
            "3:10: invalid YAML: a '[' list is not closed with ']' (or an item lacks its "
            "comma)\n"
            "  3 |     any: [x, y\n"
            "    |          ^",
        ),
        (  # the offending line is shown without the secret it holds
            "smtp:\n  host: x\n   password: hunter2secret\n",
            "3:12: invalid YAML: a ': ' where no key can start: this line is indented more than "
            "the key above it allows, or a value holding ': ' needs quotes\n"
            "  3 |    password: ***\n"
            "    |            ^",
        ),
    ],
    ids=["unclosed-quote", "unclosed-list", "secret-hidden"],
)
def test_a_yaml_syntax_error_is_said_in_words_under_its_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", env={})
    assert caught.value.problems == [f"m.yaml:{expected}"]


NOT_STRINGS_BASE = (
    "sources:\n  - name: eco\n    url: https://leseco.ma/feed/\n    tags: [ma]\nrules:\n"
)
NOT_A_STRING = "Input should be a valid string"


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ("  - name: [a]\n    any: [xy]\n", f"6:11: rules[0].name: {NOT_A_STRING}"),
        ("  - name: {a: 1}\n    any: [xy]\n", f"6:11: rules[0].name: {NOT_A_STRING}"),
        (
            "  - name: a\n    any: [xy]\n    sources: [[a]]\n",
            "8:15: rules[0].sources[0]: Input should be a valid string",
        ),
        (
            "  - name: a\n    tags: [[a]]\n    any: [xy]\n",
            "7:12: rules[0].tags[0]: Input should be a valid string",
        ),
        (
            "  - name: a\n    any: [xy]\nsubscribers:\n  - name: s\n    console: true\n"
            "    rules: [[a]]\n",
            "11:13: subscribers[0].rules[0]: Input should be a valid string",
        ),
    ],
    ids=["name-list", "name-mapping", "sources-list", "tags-list", "subscriber-rules-list"],
)
def test_a_name_that_is_no_string_is_located_not_a_crash(rules: str, expected: str) -> None:
    """A list or mapping where a name is expected could not be put in a set: the cross checks
    leave it to the model, which locates it (it was a TypeError: unhashable type)."""
    with pytest.raises(ConfigError) as caught:
        parse_config(NOT_STRINGS_BASE + rules, "m.yaml", env={})
    assert caught.value.problems == [f"m.yaml:{expected}"]
