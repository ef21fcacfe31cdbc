"""A source's ``headers``, ``user_agent``, ``username``/``password`` and ``proxy``, and
``network.proxy``/``no_proxy``, as the configuration reads them: errors at ``PATH:LINE:COL``,
what restarts a source (nothing of these), and secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.load import parse_config
from monitor.core.errors import ConfigError
from monitor.core.redact import forget_secrets
from monitor.net.options import basic_credentials
from tests.support.cli import monitor

P = pytest.param
SECRETS = ("CanaryHeader-31", "CanaryPass-47", "CanaryProxy-59")
HTML = "    kind: html\n    item: article\n    title: h2\n"


def source(extra: str, url: str = "https://news.example.ma/feed") -> str:
    return f"sources:\n  - name: a\n    url: {url}\n{extra}"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", {})
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        P(
            "network:\n  proxy: https://proxy.corp:3128\n",
            "m.yaml:2:10: network.proxy: expected http://[USER:PASSWORD@]HOST:PORT "
            "(scheme 'https'): a proxy is spoken to in plain http, and https sites are reached "
            "through it",
            id="https-proxy",
        ),
        P(
            "network:\n  proxy: http://proxy.corp:3128/path?x=1\n",
            "m.yaml:2:10: network.proxy: a proxy URL is http://[USER:PASSWORD@]HOST:PORT, "
            "with no path or query",
            id="proxy-path",
        ),
        P(
            "network:\n  no_proxy: [intranet.corp, 'not a host']\n",
            "m.yaml:2:29: network.no_proxy[1]: expected a host or domain (example.com), an "
            "address or network (10.0.0.0/8), or *, not 'not a host'",
            id="no-proxy",
        ),
        P(
            source("    headers:\n      X-Ok: fine\n      'Bad Name': x\n"),
            "m.yaml:6:7: sources[0].headers.Bad Name: not a header name: 'Bad Name'",
            id="header-name",
        ),
        P(
            source("    headers:\n      User-Agent: Moi\n"),
            "m.yaml:5:7: sources[0].headers.User-Agent: User-Agent cannot be set here: set it "
            "with user_agent:",
            id="user-agent-header",
        ),
        P(
            source('    headers:\n      X-Key: "a\\r\\nX-Injected: 1"\n'),
            "m.yaml:5:14: sources[0].headers.X-Key: a header value cannot hold a line break or "
            "a control character",
            id="header-value",
        ),
        P(
            source("    username: veille\n"),
            "m.yaml:2:5: sources[0]: username and password go together (HTTP basic auth)",
            id="lone-user",
        ),
        P(
            source("    proxy: socks5://127.0.0.1:1080\n" + HTML),
            "m.yaml:4:12: sources[0].proxy: expected http://[USER:PASSWORD@]HOST:PORT (scheme "
            "'socks5'): a proxy is spoken to in plain http, and https sites are reached through "
            "it",
            id="source-proxy",
        ),
    ],
)
def test_errors_name_their_place(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_no_proxy_takes_a_list_or_the_environment_s_comma_separated_form() -> None:
    text = "network:\n  proxy: ${PROXY}\n  no_proxy: ${NO_PROXY}\n"
    env = {"PROXY": "http://u:p@10.0.0.1:3128", "NO_PROXY": "localhost,.corp.ma, 10.0.0.0/8,"}
    network = parse_config(text, "m.yaml", env).network
    assert network.no_proxy == ["localhost", "corp.ma", "10.0.0.0/8"]
    assert network.proxy == "http://u:p@10.0.0.1:3128"


@pytest.mark.parametrize("extra", ["", HTML], ids=["feed", "html"])
def test_changing_how_a_source_is_asked_does_not_restart_it(extra: str) -> None:
    plain = parse_config(source(extra), "m.yaml", {}).sources[0]
    asked = source(
        extra + "    headers: {X-Api-Key: k1}\n    user_agent: Moi/1\n"
        "    username: u\n    password: p\n    proxy: http://127.0.0.1:3128\n"
    )
    dressed = parse_config(asked, "m.yaml", {}).sources[0]
    assert dressed.config_key == plain.config_key


def test_the_options_of_a_source() -> None:
    text = source(
        "    headers: {X-Api-Key: k1}\n    user_agent: Moi/1\n"
        "    username: veille\n    password: pässwörd\n    proxy: none\n"
    )
    options = parse_config(text, "m.yaml", {}).sources[0].request_options
    assert options.private == {
        "X-Api-Key": "k1",
        "Authorization": basic_credentials("veille", "pässwörd"),
    }
    assert options.user_agent == "Moi/1" and options.direct and options.proxy is None
    assert str(options.origin) == "https://news.example.ma/feed"


SECRET_SOURCES = f"""storage: sqlite:///{{db}}
network:
  proxy: http://corp:{SECRETS[2]}@127.0.0.1:3128
sources:
  - name: a
    url: https://news.example.ma/feed
    headers:
      X-Custom: {SECRETS[0]}
    username: veille
    password: {SECRETS[1]}
{{extra}}rules:
  - name: r
    any: [IA]
"""


@pytest.mark.parametrize(
    "extra",
    [
        "",
        "  - name: b\n    url: https://b.ma/feed\n    headers: {'Bad Name': x}\n",
        "  - name: c\n    url: https://c.ma/feed\n    user_agent: ''\n",
    ],
    ids=["valid", "bad-header", "bad-agent"],
)
def test_monitor_check_shows_no_secret(tmp_path: Path, extra: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(SECRET_SOURCES.format(db=tmp_path / "m.db", extra=extra), encoding="utf-8")
    done = monitor("check", "-c", str(path), cwd=tmp_path)
    assert done.returncode == (0 if not extra else 2), done.stderr
    assert "warning" not in done.stderr  # https: nothing travels in clear
    assert not [s for s in SECRETS if s in done.stdout + done.stderr]


def test_the_model_shows_no_secret_of_a_source() -> None:
    forget_secrets()
    text = SECRET_SOURCES.format(db="m.db", extra="")
    config = parse_config(text, "m.yaml", {})
    assert not [secret for secret in SECRETS if secret in repr(config)]  # the proxy's too
    assert SECRETS[0] not in str(config.sources[0])
    own = parse_config(source(f"    proxy: http://u:{SECRETS[2]}@127.0.0.1:3128\n"), "m.yaml", {})
    assert SECRETS[2] not in repr(own) and own.sources[0].proxy is not None


def test_check_warns_of_a_password_sent_over_plain_http(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    text = SECRET_SOURCES.format(db=tmp_path / "m.db", extra="")
    path.write_text(text.replace("https://news", "http://news"), encoding="utf-8")
    done = monitor("check", "-c", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = f"{path}: warning: sources.a: its password and headers would travel in clear over "
    assert said + "http://" in done.stderr
    assert not [s for s in SECRETS if s in done.stdout + done.stderr]


def test_headers_alone_over_plain_http_are_warned_of_too() -> None:
    text = source("    headers: {X-Api-Key: k-1}\n", url="HTTP://news.example.ma/feed")
    (warning,) = parse_config(text, "m.yaml", {}).warnings()
    assert warning.startswith("sources.a: its headers would travel in clear over http://")
