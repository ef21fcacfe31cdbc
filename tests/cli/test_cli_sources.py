"""`monitor sources` and `monitor check` as a user runs them, with sources from the main file
and from an OPML or CSV ``sources_file``: one line per source with secrets redacted, an OPML
export that reads back as a sources file with the same names and URLs, and the file's
problems located in it (exit 2)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.cli import monitor
from tests.support.paths import ROOT

TOKEN = "t0ken-in-the-query"
MAIN = """\
storage: sqlite:///{folder}/data/monitor.db
defaults:
  interval: 20m
sources:
  - name: Médias24
    url: https://medias24.com/feed/?a=1&b=2
    interval: 10m
    tags: [maroc, Éco & finance]
  - name: private
    url: https://user:pw@private.example/feed?key=${{FEED_KEY}}&lang=fr
  - name: centres
    google_news: "centres d'appels"
  - name: page
    kind: html
    url: https://page.example/news
    item: article
    title: h2 a
sources_file: {sources_file}
"""


def write(folder: Path, sources_file: str) -> Path:
    path = folder / "monitor.yaml"
    path.write_text(MAIN.format(folder=folder, sources_file=sources_file), encoding="utf-8")
    return path


def listed(stdout: str) -> dict[str, list[str]]:
    """``monitor sources``'s lines: name -> kind, url, interval, tags."""
    rows = [line.split(maxsplit=4) for line in stdout.splitlines()]
    return {row[0]: row[1:] for row in rows}


@pytest.mark.slow
def test_sources_lists_both_files_with_secrets_redacted(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "data" / "opml" / "feedly.opml", tmp_path / "feeds.opml")
    path = write(tmp_path, "feeds.opml")
    result = monitor("sources", "-c", str(path), cwd=tmp_path, env={"FEED_KEY": TOKEN})
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout and "pw" not in result.stdout
    search = "https://news.google.com/rss/search?q=centres+d%27appels&hl=fr&gl=FR&ceid=FR:fr"
    assert listed(result.stdout) == {
        "Médias24": ["feed", "https://medias24.com/feed/?a=1&b=2", "10m", "maroc,Éco & finance"],
        "private": ["feed", "https://***@private.example/feed?key=***&lang=fr", "20m", "-"],
        "centres": ["google_news", search, "20m", "-"],
        "page": ["html", "https://page.example/news", "20m", "-"],
        "le-desk": ["feed", "https://ledesk.ma/feed/", "20m", "maroc,tech-ia"],
        "médias24-économie": [
            "feed",
            "https://medias24.com/feed/?cat=economie&lang=fr",
            "20m",
            "maroc",
        ],
        "هسبريس": ["feed", "https://www.hespress.com/feed", "20m", "maroc"],
        "Blog-bc9e15": ["feed", "https://blog.example.com/rss", "20m", "tech-ia"],
        "Blog-cd8fd7": ["feed", "https://blog.example.org/atom.xml", "20m", "tech-ia"],
    }
    # the columns line up
    assert len({line.index("feed") for line in result.stdout.splitlines() if " feed " in line}) == 1
    check = monitor("-c", str(path), "check", cwd=tmp_path, env={"FEED_KEY": TOKEN})
    assert check.returncode == 0, check.stderr
    assert "valid: 9 sources, 0 rules, 0 subscribers" in check.stdout


@pytest.mark.slow
def test_the_opml_export_reads_back_with_the_same_names_and_urls(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "data" / "opml" / "inoreader.xml", tmp_path / "feeds.xml")
    path = write(tmp_path, "feeds.xml")
    exported = monitor("-c", str(path), "sources", "--opml", cwd=tmp_path, env={"FEED_KEY": "k"})
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == "monitor: secrets in the URLs of private written as ***\n"
    root = ET.fromstring(exported.stdout.encode("utf-8"))
    assert (root.tag, root.get("version")) == ("opml", "2.0")
    body = root.find("body")
    assert body is not None
    folders = [o.get("text") for o in body if o.get("xmlUrl") is None]
    assert folders == ["maroc", "actualités"]  # by first tag; untagged feeds at the top
    (tmp_path / "back").mkdir()
    (tmp_path / "back" / "export.opml").write_text(exported.stdout, encoding="utf-8")
    (tmp_path / "back" / "monitor.yaml").write_text(
        f"storage: sqlite:///{tmp_path}/back.db\nsources_file: export.opml\n"
    )
    before = monitor("-c", str(path), "sources", cwd=tmp_path, env={"FEED_KEY": "k"})
    after = monitor("-c", str(tmp_path / "back" / "monitor.yaml"), "sources", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    urls = {name: row[1] for name, row in listed(before.stdout).items()}
    assert {name: row[1] for name, row in listed(after.stdout).items()} == urls
    assert len(urls) == 8
    # every tag comes back too (the first is the folder, all are in category=)
    tags = {name: row[3] for name, row in listed(after.stdout).items()}
    assert tags["l-usine-nouvelle"] == "actualités,france"
    assert tags["Médias24"] == "maroc,éco-finance"  # a tag read from OPML is made a name


@pytest.mark.slow
def test_a_bad_csv_sources_file_fails_check_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "feeds.csv").write_text(
        "name,url,intervall\nok,https://ok.example/feed,\nbad,https://bad.example/feed,1m\n",
        encoding="utf-8",
    )
    path = write(tmp_path, "feeds.csv")
    result = monitor("check", "-c", str(path), cwd=tmp_path, env={"FEED_KEY": "k"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{tmp_path}/feeds.csv:1:3: (header): unknown column 'intervall' (did you mean interval?)"
    ]
    (tmp_path / "feeds.csv").write_text(
        "name,url,interval\nok,https://ok.example/feed,\nbad,htp://bad.example/feed,1m\n",
        encoding="utf-8",
    )
    result = monitor("check", "-c", str(path), cwd=tmp_path, env={"FEED_KEY": "k"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{tmp_path}/feeds.csv:3:2: sources[1].url: expected an absolute http:// or https:// "
        "URL (scheme 'htp')"
    ]


@pytest.mark.slow
def test_no_sources(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"storage: sqlite:///{tmp_path}/m.db\n")
    result = monitor("sources", "-c", str(path), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "no sources\n")
    exported = monitor("sources", "--opml", "-c", str(path), cwd=tmp_path)
    assert ET.fromstring(exported.stdout).find("body") is not None
