"""A sources file checked and read for the store (monitor.config.load: ``check_sources_file``,
``sources_file_batches``, ``sources_from: store``): validated a batch at a time, every problem
still at its ``PATH:LINE:COL`` whatever batch it is in, a name repeated across batches found,
and the batches read back after the check hold every source once, in the file's order.
A source's definition as the store keeps it reads back to the same source
(monitor.config.stored)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter

from monitor.config.load import (
    check_sources_file,
    sources_file_batches,
    sources_file_definitions,
)
from monitor.config.sources import SourceConfig
from monitor.config.stored import definition, from_definition
from monitor.core.errors import ConfigError


def write(folder: Path, rows: list[str]) -> Path:
    path = folder / "feeds.csv"
    path.write_text("name,url,interval\n" + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def test_problems_in_any_batch_are_at_their_line(tmp_path: Path) -> None:
    rows = [f"s{n},https://x.example/{n}," for n in range(25)]
    rows[3] = "s3,ftp://x.example/3,"  # first batch (of 10)
    rows[17] = "s17,https://x.example/17,5s"  # second batch
    rows[24] = "s2,https://x.example/24,"  # third batch: a name the first has
    path = write(tmp_path, rows)
    with pytest.raises(ConfigError) as caught:
        list(sources_file_batches(path, {}, size=10))
    problems = caught.value.problems
    assert [p.split(": ")[0:2] for p in problems] == [
        [f"{path}:5:2", "sources[3].url"],
        [f"{path}:19:3", "sources[17].interval"],
        [f"{path}:26:1", "sources[24].name"],
    ]
    assert problems[2].endswith("duplicate name 's2'")
    with pytest.raises(ConfigError):
        check_sources_file(path, {})


def test_a_right_file_is_read_back_batch_by_batch(tmp_path: Path) -> None:
    path = write(tmp_path, [f"s{n},https://x.example/{n},1h" for n in range(25)])
    assert check_sources_file(path, {}) == 25
    batches = list(sources_file_batches(path, {}, size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [s.name for b in batches for s in b] == [f"s{n}" for n in range(25)]


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "a", "url": "https://a.example/f", "tags": ["x", "y"], "interval": "2h"},
        {"name": "b", "url": "https://b.example/f", "username": "u", "password": "p",
         "headers": {"X-Key": "k"}, "proxy": "none", "fetch_article": True},
        {"name": "g", "google_news": "maroc IA", "language": "ar", "country": "MA"},
        {"name": "h", "kind": "html", "url": "https://h.example/", "item": "li", "title": "a"},
        {"name": "s", "kind": "sitemap", "url": "https://s.example/sitemap.xml"},
    ],
)  # fmt: skip
def test_a_stored_definition_reads_back_the_same_source(entry: dict[str, object]) -> None:
    source = TypeAdapter(SourceConfig).validate_python(entry)
    text = definition(source)
    back = from_definition(text)
    assert back == source
    assert back.config_key == source.config_key
    assert definition(back) == text  # stable: an unchanged source is not rewritten


def test_values_written_with_a_variable_are_stored_unexpanded(tmp_path: Path) -> None:
    path = tmp_path / "feeds.csv"
    path.write_text(
        "name,url,username,password,user_agent\n"
        "a,https://a.example/feed?t=${TOKEN},bot,${A_PASSWORD},monitor (${CONTACT})\n"
        "b,https://b.example/feed,,,\n",
        encoding="utf-8",
    )
    env = {"TOKEN": "tok-1", "A_PASSWORD": "s3cret-pw", "CONTACT": "ops@x.ma"}
    ((a, text_a), (b, text_b)), *more = sources_file_definitions(path, env)
    assert more == [] and a.password is not None
    assert a.password.get_secret_value() == "s3cret-pw"  # checked with its value
    assert "s3cret-pw" not in text_a and "ops@x.ma" not in text_a  # stored without it
    assert "${A_PASSWORD}" in text_a and "monitor (${CONTACT})" in text_a
    assert a.url == "https://a.example/feed?t=tok-1"  # (the table's url column: as in config mode)
    assert text_b == definition(b)
    # the replica reading it expands it from its own environment
    back = from_definition(text_a, env)
    assert back == a and back.config_key == a.config_key
    with pytest.raises(ValueError, match="password: environment variable A_PASSWORD is not set"):
        from_definition(text_a, {"TOKEN": "tok-1", "CONTACT": "ops@x.ma"})


def test_the_file_is_read_a_batch_at_a_time(tmp_path: Path) -> None:
    """A CSV file is a stream: a batch is given before the rows after it are read, so a row
    that cannot be read further on stops the batches there (and the check, which reads the
    whole file first, refuses it: `monitor sources load` writes nothing)."""
    rows = [f"s{n},https://x.example/{n}," for n in range(25)]
    rows[15] = "s15,https://x.example/15,,extra"  # more cells than columns
    path = write(tmp_path, rows)
    batches = sources_file_batches(path, {}, size=10)
    assert [s.name for s in next(batches)] == [f"s{n}" for n in range(10)]
    with pytest.raises(ConfigError) as caught:
        next(batches)
    assert caught.value.problems[0].startswith(f"{path}:17:4: sources[15]: 4 cells but 3")
    with pytest.raises(ConfigError):
        check_sources_file(path, {})
