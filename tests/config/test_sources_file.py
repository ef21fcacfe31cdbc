"""Sources from a separate OPML or CSV file (``sources_file:``): feed readers' exports read as
they are written, names made from titles and independent of the outlines' order, every problem
located in the file, and the file read again on reload (SIGHUP)."""

from __future__ import annotations

import random
import shutil
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import sources_file
from monitor.config.feed_names import slug
from monitor.config.load import load_config
from monitor.config.model import Config
from monitor.daemon.app import App
from tests.support.config import problems
from tests.support.paths import ROOT
from tests.support.peers import FakeClock

OPML_DATA = ROOT / "tests" / "data" / "opml"
P = pytest.param


def write(folder: Path, sources_file: str, text: str | None = None, main: str = "") -> Path:
    """The main configuration in ``folder`` naming ``sources_file`` (holding ``text``, else a
    copy of the file of that name under tests/data/opml)."""
    folder.mkdir(parents=True, exist_ok=True)
    if text is None:
        shutil.copy(OPML_DATA / sources_file, folder / sources_file)
    else:
        (folder / sources_file).write_text(text, encoding="utf-8")
    path = folder / "monitor.yaml"
    path.write_text(
        f"storage: sqlite:///{folder}/m.db\n{main}sources_file: {sources_file}\n",
        encoding="utf-8",
    )
    return path


def table(config: Config) -> dict[str, tuple[str, list[str]]]:
    return {s.name: (s.url, s.tags) for s in config.sources}


def test_feedly_export_with_folders_duplicates_and_arabic(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "feedly.opml"), env={})
    assert table(config) == {
        # in two folders: one source with both tags
        "le-desk": ("https://ledesk.ma/feed/", ["maroc", "tech-ia"]),
        "médias24-économie": ("https://medias24.com/feed/?cat=economie&lang=fr", ["maroc"]),
        "هسبريس": ("https://www.hespress.com/feed", ["maroc"]),
        # the same title twice: each told apart by its URL's hash
        "Blog-bc9e15": ("https://blog.example.com/rss", ["tech-ia"]),
        "Blog-cd8fd7": ("https://blog.example.org/atom.xml", ["tech-ia"]),
    }
    assert {s.kind for s in config.sources} == {"feed"}
    assert config.sources_file == str(tmp_path / "feedly.opml")


def test_inoreader_export_with_nested_folders_and_a_feed_at_the_top(tmp_path: Path) -> None:
    # Inoreader names its export .xml: read as OPML
    config = load_config(write(tmp_path, "inoreader.xml"), env={})
    assert table(config) == {
        "le-monde.fr-actualités-et-infos-en-france-et-dans-le-monde": (
            "https://www.lemonde.fr/rss/une.xml",
            ["actualités", "france"],
        ),
        "l-usine-nouvelle": (
            "https://www.usinenouvelle.com/rss/?a=1&b=2",
            ["actualités", "france"],
        ),
        "الجزيرة-نت": (
            "https://www.aljazeera.net/aljazeerarss/a7c186be-1baa-4bd4-9d80-a84db769f779/"
            "73d0e1b4-532f-45ef-b135-bfdff8b8cab9",
            ["actualités"],
        ),
        "TelQuel.ma": ("https://telquel.ma/feed", []),  # already a name: kept as it is
    }


def test_miniflux_export_without_types(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "miniflux.opml"), env={})
    assert table(config) == {
        "hacker-news-7198d8": ("https://news.ycombinator.com/rss", ["all"]),
        "l-économiste": ("https://www.leconomiste.com/rss-leconomiste", ["all"]),
        "hacker-news-616085": (
            "https://hnrss.org/frontpage?points=100&comments=25",
            ["centres-d-appels"],
        ),
    }


def test_freshrss_export_with_its_namespace_and_a_scraped_page(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "freshrss.opml"), env={})
    assert table(config) == {
        "le-matin": ("https://lematin.ma/rss", ["sans-catégorie", "économie"]),
        "Challenge": ("https://www.challenge.ma/feed/", ["économie"]),
        "Boursenews": ("https://boursenews.ma/rss.php?lang=fr&cat=2", ["économie"]),
    }
    # FreshRSS scrapes this page (type="HTML+XPath"): its own feed is found at the first poll
    kinds = {s.name: s.kind for s in config.sources}
    assert kinds == {"le-matin": "feed", "Challenge": "feed", "Boursenews": "auto"}


def test_the_main_files_sources_win(tmp_path: Path) -> None:
    main = (
        "sources:\n  - name: le-desk\n    url: https://ledesk.ma/rss\n"
        "  - name: hespress\n    url: https://www.hespress.com/feed\n    kind: sitemap\n"
        "rules:\n  - name: maroc\n    any: [Maroc]\n    tags: [maroc, tech-ia]\n"
    )
    config = load_config(write(tmp_path, "feedly.opml", main=main), env={})
    names = [s.name for s in config.sources]
    # its names stay, the file's same-named feed gets the suffix
    assert names[:3] == ["le-desk", "hespress", "le-desk-65f2b9"]
    # a URL it has is left out of the file's (no feed polled twice, its settings kept)
    assert "هسبريس" not in names and len(set(names)) == len(names) == 6
    assert config.sources[1].kind == "sitemap"
    assert config.rules[0].tags == ["maroc", "tech-ia"]  # folders are tags rules may name


def outline_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "xmlUrl=" in line]


def test_reordering_the_file_renames_nothing(tmp_path: Path) -> None:
    original = (OPML_DATA / "feedly.opml").read_text(encoding="utf-8")
    expected = table(load_config(write(tmp_path / "a", "feedly.opml", original), env={}))
    feeds = outline_lines(original)
    shuffler = random.Random(22)
    for attempt in range(5):
        shuffler.shuffle(feeds)
        # every feed in one folder or another, in a new order: the names and URLs stay
        half = len(feeds) // 2
        text = (
            '<?xml version="1.0"?>\n<opml version="2.0"><head/><body>\n'
            '<outline text="Tech &amp; IA">\n' + "\n".join(feeds[:half]) + "\n</outline>\n"
            '<outline text="Maroc">\n' + "\n".join(feeds[half:]) + "\n</outline>\n"
            "</body></opml>\n"
        )
        config = load_config(write(tmp_path / str(attempt), "f.opml", text), env={})
        assert {n: url for n, (url, _) in table(config).items()} == {
            n: url for n, (url, _) in expected.items()
        }


def test_slugs() -> None:
    assert slug("Le Monde | Économie") == "le-monde-économie"
    assert slug("  TelQuel.ma ") == "TelQuel.ma"  # a valid name is kept, case and all
    assert slug("L’Économiste") == "l-économiste"
    assert slug("هسبريس - أخبار") == "هسبريس-أخبار"
    decomposed = unicodedata.normalize("NFD", "Médias")
    assert slug(decomposed) == "Médias" == unicodedata.normalize("NFC", "Médias")
    assert slug("!!! ???") == ""
    assert slug("x" * 150) == "x" * 80


def test_a_feed_without_title_is_named_by_its_host(tmp_path: Path) -> None:
    text = (
        '<opml version="2.0"><body>'
        '<outline xmlUrl="https://www.leseco.ma/feed"/>'
        '<outline text="???" xmlUrl="https://www.leseco.ma/other"/>'
        '<outline text="" xmlUrl="https://x.example/rss"/>'
        "</body></opml>"
    )
    config = load_config(write(tmp_path, "f.opml", text), env={})
    assert [s.name for s in config.sources] == [
        "www.leseco.ma-77ffe4",
        "www.leseco.ma-1b5b89",
        "x.example",
    ]


def test_an_opml_file_in_another_encoding(tmp_path: Path) -> None:
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<opml version="1.0"><body>\n'
        '<outline text="Économie"><outline text="Le Matin" xmlUrl="https://lematin.ma/rss"/>'
        "</outline></body></opml>\n"
    )
    path = write(tmp_path, "f.opml", "")
    (tmp_path / "f.opml").write_bytes(text.encode("latin-1"))
    assert table(load_config(path, env={})) == {
        "le-matin": ("https://lematin.ma/rss", ["économie"])
    }


def test_empty_folders_and_links_are_passed_over(tmp_path: Path) -> None:
    text = (
        '<opml version="2.0"><head><title>x</title></head><body>\n'
        '<outline text="Vide"/>\n'
        '<outline text="Vide aussi"><outline text="Rien"/></outline>\n'
        '<outline type="link" text="A page" url="https://x.example/"/>\n'
        '<outline text="Feed" xmlUrl="https://x.example/feed"/>\n'
        "</body></opml>\n"
    )
    assert table(load_config(write(tmp_path, "f.opml", text), env={})) == {
        "Feed": ("https://x.example/feed", [])
    }


def test_csv_sources_with_kinds_tags_and_defaults(tmp_path: Path) -> None:
    text = (
        "\ufeffname,url,interval,tags,kind,item,title,fetch_article,google_news,language\n"
        "leseco,https://leseco.ma/feed/,10m,maroc|eco,,,,,,\n"
        "medias24,https://medias24.com/?a=1&b=2,,maroc eco;presse,,,,yes,,\n"
        'page,https://x.example/news,,,html,article,"h2 a",,,\n'
        "\n"  # blank lines are skipped
        "search,,,,,,,,centres d'appels,fr\n"
        "tok,https://x.example/f?token=${TOKEN},,,,,,,,\n"
    )
    config = load_config(write(tmp_path, "s.csv", text), env={"TOKEN": "s3cret-token"})
    leseco, medias, page, search, tok = config.sources
    assert (leseco.kind, leseco.interval, leseco.tags) == (
        "feed",
        timedelta(minutes=10),
        ["maroc", "eco"],
    )
    assert (medias.url, medias.tags, medias.fetch_article) == (
        "https://medias24.com/?a=1&b=2",
        ["maroc", "eco", "presse"],
        True,
    )
    assert medias.interval is None  # an empty cell keeps the default
    assert (page.kind, page.url) == ("html", "https://x.example/news")
    assert search.kind == "google_news" and "centres+d%27appels" in search.url
    assert tok.url == "https://x.example/f?token=s3cret-token"


# (file name, its text, the expected problems after "<folder>/"); the main configuration has
# one source, "main"
MAIN = "sources:\n  - name: main\n    url: https://main.example/feed\n"
CSV_ERRORS = [
    P(
        "s.csv",
        "name,url,interval\nok,https://x.example/feed,\nbad,ftp://x.example/feed,5s\n",
        [
            "3:2: sources[1].url: expected an absolute http:// or https:// URL (scheme 'ftp')",
            "3:3: sources[1].interval: a poll interval must be at least 10s",
        ],
        id="bad-url-and-interval",
    ),
    P(
        "s.csv",
        "name,url,intervall\nx,https://x.example/feed,10m\n",
        ["1:3: (header): unknown column 'intervall' (did you mean interval?)"],
        id="unknown-column",
    ),
    P(
        "s.csv",
        "name,tags\nx,a\n",
        ["1:1: (header): missing column 'url' (or 'google_news', for searches)"],
        id="no-url-column",
    ),
    P(
        "s.csv",
        "name,url\nmain,https://x.example/feed\n",
        ["2:1: sources[0].name: duplicate name 'main'"],  # a CSV's names are the user's
        id="duplicate-across-files",
    ),
    P(
        "s.csv",
        "name,url\nmy feed,https://x.example/feed\n",
        ["2:1: sources[0].name: a name is letters, digits, '_', '.' and '-' only (no spaces)"],
        id="bad-name",
    ),
    P(
        "s.csv",
        "name,url,kind\nx,https://x.example/feed,rss\n",
        [
            "2:3: sources[0].kind: unknown source kind (expected one of: feed, html, sitemap, "
            "google_news, auto)"
        ],
        id="unknown-kind",
    ),
    P(
        "s.csv",
        "name,url,kind\nx,https://x.example/,html\n",
        [
            "2:1: sources[0].item: missing required key",
            "2:1: sources[0].title: missing required key",
        ],
        id="html-without-selectors",
    ),
]
OPML_ERRORS = [
    P(
        "f.opml",
        '<opml version="2.0">\n<body>\n  <outline text="a" xmlUrl="https://x.example/a"/>\n'
        '  <outline text="b" type="rss" xmlUrl="ftp://x.example/b"/>\n</body>\n</opml>\n',
        ["4:40: sources[1].url: expected an absolute http:// or https:// URL (scheme 'ftp')"],
        id="bad-url",
    ),
    P(
        "f.opml",
        '<opml version="2.0"><body>\n<!-- <outline text="old" xmlUrl="https://old.example/"/> -->\n'
        '<outline text="a" xmlUrl="https://a.example/"/><outline text="b" xmlUrl="ftp://b/">'
        '<outline text="c" xmlUrl="gopher://c"/></outline>\n</body></opml>\n',
        [
            # on one line, after a commented-out outline: each at its own column
            "3:74: sources[1].url: expected an absolute http:// or https:// URL (scheme 'ftp')",
            "3:110: sources[2].url: expected an absolute http:// or https:// URL (scheme 'gopher')",
        ],
        id="columns-on-one-line",
    ),
    P(
        "f.opml",
        '<opml version="1.0"><body>\n<outline text="Dossier">\n'
        '    <outline type="rss" text="Sans adresse" htmlUrl="https://x.example/"/>\n'
        "</outline></body></opml>\n",
        ['3:5: outline: type="rss" but no xmlUrl: the feed\'s address is missing'],
        id="missing-xmlurl",
    ),
    P(
        "f.opml",
        '<opml version="1.0"><body>\n<outline text="a"\n   xmlUrl="https://x.example/?a=1&b=2"/>\n'
        "</body></opml>\n",
        ["3:36: invalid XML: EntityRef: expecting ';'"],
        id="malformed",
    ),
    P(
        "f.opml",
        '<opml version="1.0"><body>\n<outline text="a" xmlUrl="https://x.example/a">\n'
        "</body></opml>\n",
        ["3:8: invalid XML: Opening and ending tag mismatch: outline line 2 and body"],
        id="unclosed",
    ),
    P(
        "f.opml",
        '<?xml version="1.0"?>\n<!DOCTYPE opml [\n <!ENTITY a "aaaaaaaaaa">\n'
        ' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
        '<opml version="1.0"><body><outline text="&b;" xmlUrl="https://x.example/"/>'
        "</body></opml>\n",
        ["2:1: a DOCTYPE or entity declaration: refused (an OPML file needs none)"],
        id="entities",
    ),
    P(
        "f.opml",
        '<rss version="2.0"><channel><title>x</title></channel></rss>\n',
        ["1:1: not an OPML file: its root is <rss>, not <opml>"],
        id="not-opml",
    ),
    P("f.opml", "", ["1:1: invalid XML: no element found"], id="empty"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CSV_ERRORS + OPML_ERRORS)
def test_each_error_is_located_in_the_file(
    tmp_path: Path, name: str, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, name, text, main=MAIN)
    assert problems(path) == [f"{tmp_path}/{name}:{line}" for line in expected]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("absent.opml", "cannot read {folder}/absent.opml: No such file or directory"),
        ("feeds.txt", "expected a .opml, .xml or .csv file, not '{folder}/feeds.txt'"),
    ],
)
def test_a_sources_file_that_cannot_be_used_is_named(
    tmp_path: Path, name: str, message: str
) -> None:
    path = write(tmp_path, "feeds.txt", "")
    text = path.read_text().replace("feeds.txt", name)
    path.write_text(text)
    assert problems(path) == [f"{path}:2:15: sources_file: {message.format(folder=tmp_path)}"]


def test_problems_of_the_main_file_come_first(tmp_path: Path) -> None:
    main = "sources:\n  - name: eco\n    url: https://x.example/\n    interval: 1s\n"
    path = write(tmp_path, "s.csv", "name,url\neco,https://y.example/\n", main=main)
    assert problems(path) == [
        f"{path}:5:15: sources[0].interval: a poll interval must be at least 10s",
        f"{tmp_path}/s.csv:2:1: sources[0].name: duplicate name 'eco'",
    ]


def test_five_thousand_opml_feeds(tmp_path: Path) -> None:
    body = "".join(
        f'<outline text="Dossier {d}">'
        + "".join(
            f'<outline type="rss" text="Feed {i}" xmlUrl="https://f{i}.example/rss?d={d}&amp;x=1"/>'
            for i in range(d * 100, d * 100 + 100)
        )
        + "</outline>\n"
        for d in range(50)
    )
    text = f'<opml version="2.0"><head/><body>\n{body}</body></opml>\n'
    config = load_config(write(tmp_path, "many.opml", text), env={})
    assert len(config.sources) == 5000
    last = config.sources[-1]
    assert (last.name, last.url, last.tags) == (
        "feed-4999",
        "https://f4999.example/rss?d=49&x=1",
        ["dossier-49"],
    )


async def test_a_reload_picks_up_the_sources_file(tmp_path: Path) -> None:
    opml = '<opml version="2.0"><body>{}</body></opml>'
    feed = '<outline text="{0}" xmlUrl="https://{0}.example/rss"/>'
    path = write(tmp_path, "f.opml", opml.format(feed.format("a")))
    async with App(load_config(path, env={}), clock=FakeClock(), config_path=path) as app:
        assert set(app.sources) == {"a"}
        (tmp_path / "f.opml").write_text(opml.format(feed.format("a") + feed.format("b")))
        await app.reload_from_file()
        assert set(app.sources) == {"a", "b"}
        # a broken file is refused and the running sources stay
        (tmp_path / "f.opml").write_text(opml.format(feed.format("c")) + "<oops")
        await app.reload_from_file()
        assert set(app.sources) == {"a", "b"}


def test_errors_past_row_100000_are_at_their_line(tmp_path: Path) -> None:
    rows = [f"s{i},https://f{i}.example/feed,,t{i % 7}\n" for i in range(100_050)]
    rows[100_010] = "bad,ftp://x.example/feed,,\n"
    rows[100_020] = "slow,https://x.example/feed,1s,a\n"
    rows[500] = 'quoted,https://q.example/feed,,"two\nlines"\n'  # a row on two lines
    rows.insert(700, "\n")  # a blank line, skipped
    text = "name,url,interval,tags\n" + "".join(rows)
    csv = tmp_path / "big.csv"
    # (the header, the quoted cell's second line and the blank line come before each)
    assert problems(write(tmp_path, "big.csv", text)) == [
        f"{csv}:100014:2: sources[100010].url: expected an absolute http:// or https:// URL "
        "(scheme 'ftp')",
        f"{csv}:100024:3: sources[100020].interval: a poll interval must be at least 10s",
    ]


def test_a_sources_file_is_not_held_to_the_configuration_s_size(tmp_path: Path) -> None:
    path = "/" + "a" * 2000
    text = "name,url\n" + "".join(f"s{i},https://x.example{path}{i}\n" for i in range(5500))
    config = load_config(write(tmp_path, "long.csv", text), env={})
    assert (tmp_path / "long.csv").stat().st_size > 10 * 1024 * 1024
    assert len(config.sources) == 5500 and config.sources[-1].url.endswith("a5499")


def test_past_the_most_sources_the_file_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_file, "MAX_SOURCES", 1000)
    rows = "".join(f"s{i},https://f{i}.example/feed\n" for i in range(1000))
    past = "s1000,https://f1000.example/feed\nbad,ftp://never.read/\n"
    csv = write(tmp_path, "s.csv", "name,url\n" + rows + past).with_name("s.csv")
    assert problems(csv.with_name("monitor.yaml")) == [
        f"{csv}:1002:1: more than 1,000 sources: the rest is not read"
    ]
    ok = tmp_path / "ok"
    assert len(load_config(write(ok, "s.csv", "name,url\n" + rows), env={}).sources) == 1000


def test_past_the_most_opml_feeds_none_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_file, "MAX_SOURCES", 3)
    outlines = "".join(f'<outline text="f{i}" xmlUrl="https://f{i}.example/"/>\n' for i in range(5))
    text = f'<opml version="2.0"><body>\n{outlines}</body></opml>\n'
    path = write(tmp_path, "f.opml", text)
    assert problems(path) == [f"{tmp_path}/f.opml:5:1: more than 3 sources: the rest is not read"]


def test_past_the_most_bytes_the_file_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_file, "MAX_BYTES", 64 * 1024)
    rows = "".join(f"s{i:05},https://f{i:05}.example/feed/x\n" for i in range(3000))  # 40 bytes
    path = write(tmp_path, "s.csv", "name,url\n" + rows)
    # the size is looked at every 1,024 lines, as the decoder reads the file: line 2,048 here
    assert problems(path) == [
        f"{tmp_path}/s.csv:2048:1: larger than 0.0625 MB: the rest is not read"
    ]
    opml = f'<opml version="2.0"><body>{" " * 70_000}</body></opml>\n'
    assert problems(write(tmp_path, "f.opml", opml)) == [
        f"{tmp_path}/f.opml:1:1: larger than 0.0625 MB: refused, unread"
    ]


def test_a_csv_file_not_in_utf8_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "")
    raw = "name,url,tags\nleseco,https://leseco.ma/feed,économie\n".encode("latin-1")
    (tmp_path / "s.csv").write_bytes(raw)
    assert problems(path) == [f"{tmp_path}/s.csv:2:31: not UTF-8 text (save it as UTF-8)"]
