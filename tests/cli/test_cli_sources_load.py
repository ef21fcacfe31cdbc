"""``monitor sources load [FILE]`` as a user runs it (``sources_from: store``, issue 25): a CSV
or OPML sources file checked like ``monitor check`` checks one, its problems at their
``PATH:LINE:COL`` and nothing written then; what was added, changed, given new settings and
removed said; a second load of the same file changes nothing. ``monitor check`` in store mode
checks the rules without the source list."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import monitor

CONFIG = """\
storage: sqlite:///{folder}/monitor.db
sources_from: store
sources_file: feeds.csv
rules:
  - name: ia
    any: [IA]
    sources: [a]
"""
GOOD = "name,url,tags\na,https://a.example/feed,maroc\nb,https://b.example/feed,\n"
OPML = """<?xml version="1.0"?><opml version="2.0"><head/><body>
<outline text="a" type="rss" xmlUrl="https://a.example/feed"/>
<outline text="c" type="rss" xmlUrl="https://c.example/feed"/>
</body></opml>
"""


def setup(folder: Path) -> None:
    (folder / "monitor.yaml").write_text(CONFIG.format(folder=folder), encoding="utf-8")
    (folder / "feeds.csv").write_text(GOOD, encoding="utf-8")


def test_load_adds_then_changes_nothing_then_follows_the_file(tmp_path: Path) -> None:
    setup(tmp_path)
    checked = monitor("check", "-c", "monitor.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "valid: sources in the store, 1 rule" in checked.stdout
    first = monitor("sources", "load", "-c", "monitor.yaml", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "2 added: a, b",
        "feeds.csv: 2 sources in the store",
    ]
    again = monitor("sources", "load", "-c", "monitor.yaml", cwd=tmp_path)
    assert again.stdout.splitlines()[0] == "2 unchanged"
    listed = monitor("sources", "-c", "monitor.yaml", cwd=tmp_path)
    assert [line.split()[:3] for line in listed.stdout.splitlines()] == [
        ["a", "feed", "https://a.example/feed"],
        ["b", "feed", "https://b.example/feed"],
    ]
    status = monitor("status", "-c", "monitor.yaml", cwd=tmp_path)  # the store's sources
    assert [line.split(":")[0] for line in status.stdout.splitlines()] == [
        "source a",
        "source b",
    ]
    (tmp_path / "more.opml").write_text(OPML, encoding="utf-8")
    other = monitor("sources", "load", "more.opml", "-c", "monitor.yaml", cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    # a loses its tag (new settings), c comes, b goes
    assert other.stdout.splitlines() == [
        "1 added: c",
        "1 given new settings: a",
        "1 removed: b",
        "more.opml: 2 sources in the store",
    ]


def test_a_wrong_entry_is_told_at_its_place_and_nothing_is_written(tmp_path: Path) -> None:
    setup(tmp_path)
    (tmp_path / "bad.csv").write_text(
        "name,url,interval\n"
        "a,https://a.example/feed,\n"
        "b,ftp://b.example/feed,\n"
        "c,https://c.example/feed,5s\n"
        "a,https://d.example/feed,\n",
        encoding="utf-8",
    )
    done = monitor("sources", "load", "bad.csv", "-c", "monitor.yaml", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith("bad.csv:3:2: sources[1].url: ")
    assert lines[1].startswith("bad.csv:4:3: sources[2].interval: a poll interval must be")
    assert lines[2] == "bad.csv:5:1: sources[3].name: duplicate name 'a'"
    assert lines[-1] == "bad.csv: nothing written"
    # nothing written: the good file's load adds both, as on an empty store
    assert monitor("sources", "load", "-c", "monitor.yaml", cwd=tmp_path).stdout.startswith(
        "2 added: a, b\n"
    )


def test_store_mode_checks_rules_without_the_sources_and_refuses_them_in_the_file(
    tmp_path: Path,
) -> None:
    # scopes name sources and tags the store may have: not checked against a list
    text = CONFIG.format(folder=tmp_path) + "    tags: [maroc]\n"
    (tmp_path / "monitor.yaml").write_text(text, encoding="utf-8")
    checked = monitor("check", "-c", "monitor.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    text += "sources:\n  - name: x\n    url: https://x.example/feed\n"
    (tmp_path / "monitor.yaml").write_text(text, encoding="utf-8")
    checked = monitor("check", "-c", "monitor.yaml", cwd=tmp_path)
    assert checked.returncode == 2
    assert "sources: with sources_from: store the sources live in the store" in checked.stderr


def test_load_needs_store_mode(tmp_path: Path) -> None:
    (tmp_path / "monitor.yaml").write_text(
        f"storage: sqlite:///{tmp_path}/monitor.db\n", encoding="utf-8"
    )
    (tmp_path / "feeds.csv").write_text(GOOD, encoding="utf-8")
    done = monitor("sources", "load", "feeds.csv", "-c", "monitor.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "sources_from: store is not set" in done.stderr


def test_a_bulk_of_new_sources_is_first_polled_over_a_window(tmp_path: Path) -> None:
    """500 new sources are not all due at the load's instant (a herd of first polls): they are
    spread over 500 / 50 = 10 s by a hash of their names; a handful added later are due at once."""
    import sqlite3

    setup(tmp_path)
    rows = "".join(f"s{n:03d},https://s{n}.example/feed,\n" for n in range(500))
    (tmp_path / "feeds.csv").write_text("name,url,tags\n" + rows, encoding="utf-8")
    loaded = monitor("sources", "load", "-c", "monitor.yaml", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    query = "SELECT name, julianday(next_due_at) * 86400 FROM sources"
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        due = dict(db.execute(query).fetchall())
    spread = max(due.values()) - min(due.values())
    assert 8 < spread <= 10  # over the window, evenly: nearly all of it is used
    start = min(due.values())
    assert len({int(at - start) for at in due.values()}) >= 9  # about 50 in each of its seconds
    more = rows + "".join(f"t{n},https://t{n}.example/feed,\n" for n in range(3))
    (tmp_path / "feeds.csv").write_text("name,url,tags\n" + more, encoding="utf-8")
    assert monitor("sources", "load", "-c", "monitor.yaml", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        later = dict(db.execute(query).fetchall())
    assert later["t0"] == later["t1"] == later["t2"]  # three: due at once, at the load
    # 500 others in place of these: as many sources as before, but each new, so spread too
    swapped = "".join(f"u{n:03d},https://u{n}.example/feed,\n" for n in range(500))
    (tmp_path / "feeds.csv").write_text("name,url,tags\n" + swapped, encoding="utf-8")
    assert monitor("sources", "load", "-c", "monitor.yaml", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        news = [at for name, at in db.execute(query).fetchall() if name.startswith("u")]
    assert 8 < max(news) - min(news) <= 10
