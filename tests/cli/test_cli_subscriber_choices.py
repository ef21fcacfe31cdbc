"""`monitor subscribers` with subscribers' own choices (issue 24): both kinds listed, where each
value comes from, paused and unsubscribed; `reset NAME`, `remove ADDRESS`, `export` (CSV)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.config.load import load_config
from monitor.store import open_engine
from monitor.store.sources import SourceStore
from monitor.store.standing import Standing
from monitor.store.subscribers import SubscriberBook
from tests.support.store import item, outcome

NOW = datetime.now(UTC).replace(microsecond=0)  # the CLI reads the real clock


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
storage: sqlite:///{tmp_path}/monitor.db
timezone: Africa/Casablanca
smtp:
  host: 127.0.0.1
  port: 1
  security: none
  from: v@x.ma
sources:
  - name: a
    url: https://a.ma/feed
rules:
  - name: demarchage
    any: ["démarchage"]
  - name: ia
    any: ["IA"]
subscribers:
  - name: ana
    email: ana@x.ma
    digest: daily 08:00
  - name: bob
    email: =bob@x.ma
    rules: [ia]
""")
    return path


async def _store(path: Path) -> str:
    """Ana chose weekly and paused; someone signed up; bob unsubscribed: the new one's name."""
    config = load_config(path)
    engine = await open_engine(config.storage)
    try:
        await SourceStore(engine).sync(config, NOW)
        book = SubscriberBook(engine)
        await book.choose("ana", "ana@x.ma", {"digest": "weekly mon 08:00", "language": "en"}, NOW)
        await book.pause("ana", NOW + timedelta(days=10))
        name, _ = await book.sign_up(
            "Zed@Exemple.MA", NOW, rules=["ia"], digest="immediate", language="fr"
        )
        await Standing(engine).unsubscribe("bob", NOW, lambda target, since: True)
        await SourceStore(engine).record([outcome("a", (item("a", "k1"),), subs=(name,))])
    finally:
        await engine.dispose()
    return name


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, str]:
    path = _write(tmp_path)
    return path, asyncio.run(_store(path))


def test_both_kinds_listed_with_where_each_value_comes_from(
    setup: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, signed = setup
    code, out, _ = _run(capsys, "subscribers", "-c", str(path))
    assert code == 0
    ana, bob, zed = out.splitlines()
    assert ana.startswith(
        "ana: email ana@x.ma; all rules; digest: weekly mon 08:00 (own choice); "
        "language: en (own choice); paused until "
    )
    assert "; next digest: after the pause; pending: 0" in ana
    assert bob.startswith("bob: email =bob@x.ma; rules: ia; digest: immediate; unsubscribed;")
    assert zed.startswith(
        f"{signed}: email Zed@exemple.ma, signed up; rules: ia; digest: immediate;"
    )
    assert zed.endswith("pending: 1")


def test_reset_drops_an_override(
    setup: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, signed = setup
    code, out, _ = _run(capsys, "subscribers", "reset", "ana", "-c", str(path))
    assert (code, out) == (0, "ana: its own choices dropped; the running daemons apply the "
                           "configuration's values from their next tick\n")  # fmt: skip
    code, out, _ = _run(capsys, "subscribers", "-c", str(path))
    assert out.splitlines()[0].startswith(
        "ana: email ana@x.ma; all rules; digest: daily 08:00; active;"
    )
    code, out, _ = _run(capsys, "subscribers", "reset", "ana", "-c", str(path))
    assert (code, out) == (0, "ana: nothing chosen; it has the configuration's values\n")
    code, _, err = _run(capsys, "subscribers", "reset", signed, "-c", str(path))
    assert code == 2 and "remove ADDRESS" in err
    code, _, err = _run(capsys, "subscribers", "reset", "nobody", "-c", str(path))
    assert (code, err) == (2, "monitor: no subscriber named nobody in the configuration\n")


def test_remove_erases_a_signed_up_subscriber_only(
    setup: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, signed = setup
    code, _, err = _run(capsys, "subscribers", "remove", "nobody@X.MA", "-c", str(path))
    assert (code, err) == (2, "monitor: no subscriber signed up with nobody@x.ma\n")
    for address in ("ana@X.MA", "ANA@x.ma"):  # (whatever the case)
        code, _, err = _run(capsys, "subscribers", "remove", address, "-c", str(path))
        assert code == 2 and "subscriber ana of the configuration: remove it there" in err
    code, _, err = _run(capsys, "subscribers", "remove", "a@b.c\r\nBcc: x@y", "-c", str(path))
    assert code == 2 and "not an email address" in err
    code, out, _ = _run(capsys, "subscribers", "remove", "Zed@EXEMPLE.ma", "-c", str(path))
    assert (code, out) == (
        0,
        f"{signed} (Zed@exemple.ma) erased, with its deliveries and digests\n",
    )
    code, _, err = _run(capsys, "subscribers", "remove", "Zed@exemple.ma", "-c", str(path))
    assert (code, err) == (2, "monitor: no subscriber signed up with Zed@exemple.ma\n")
    code, out, _ = _run(capsys, "subscribers", "-c", str(path))
    assert [line.split(":")[0] for line in out.splitlines()] == ["ana", "bob"]


def test_remove_erases_one_who_signed_up_at_an_address_the_configuration_holds_too(
    setup: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Signed up before the configuration was given that address: the signed-up one is
    erased (it was refused because of the configured one)."""
    path, _ = setup

    async def sign_up() -> str:
        engine = await open_engine(load_config(path).storage)
        try:
            book = SubscriberBook(engine)
            name, _ = await book.sign_up("ana@x.ma", NOW, rules=["ia"], digest="immediate",
                                         language="fr")  # fmt: skip
            return name
        finally:
            await engine.dispose()

    name = asyncio.run(sign_up())
    code, out, _ = _run(capsys, "subscribers", "remove", "Ana@x.ma", "-c", str(path))
    assert (code, out) == (0, f"{name} (Ana@x.ma) erased, with its deliveries and digests\n")
    code, _, err = _run(capsys, "subscribers", "remove", "ana@x.ma", "-c", str(path))
    assert code == 2 and "subscriber ana of the configuration: remove it there" in err


def test_export_writes_every_subscriber_as_csv(
    setup: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, signed = setup
    code, out, _ = _run(capsys, "subscribers", "export", "-c", str(path))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    by_name = {row["name"]: row for row in rows}
    assert list(by_name) == ["ana", "bob", signed]
    ana = by_name["ana"]
    assert (ana["kind"], ana["digest"], ana["digest_from"], ana["rules_from"]) == (
        "config", "weekly mon 08:00", "choice", "config",
    )  # fmt: skip
    assert datetime.fromisoformat(ana["paused_until"]) == NOW + timedelta(days=10)
    assert by_name["bob"]["address"] == "'=bob@x.ma"  # a spreadsheet must not run it
    assert by_name["bob"]["unsubscribed_at"] != ""
    zed = by_name[signed]
    assert (zed["kind"], zed["address"], zed["rules"], zed["language"]) == (
        "signed-up", "Zed@exemple.ma", "ia", "fr",
    )  # fmt: skip


def test_status_and_digest_know_subscribers_who_signed_up(
    setup: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, signed = setup
    code, out, _ = _run(capsys, "status", "-c", str(path))
    assert code == 0 and f"subscriber {signed}" in out
    code, out, _ = _run(capsys, "digest", "--subscriber", signed, "-c", str(path))
    assert code == 0 and "Title k1" in out
