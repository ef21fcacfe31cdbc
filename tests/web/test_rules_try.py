"""Try a rule (``/rules/try``, ``POST /api/rules/try``) served for real on loopback over a real
SQLite store holding seeded items: French folding and Arabic explained with the term marked,
the window and the items past retention.text (title only), what a changed rule adds and
removes, errors at LINE:COL with the text kept, feed text that never runs, the bounds, CSRF
refusal, the API's access and its JSON-only body; nothing is written."""

from __future__ import annotations

import asyncio
import base64
import re
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.rules import trial as trials
from monitor.store import transaction
from monitor.store.tables import items, matches
from monitor.web import trying
from monitor.web.guard import CSP
from tests.support.peers import FakeClock
from tests.support.stored import seed_tagged
from tests.support.webapp import USERS, Served, app_config, csrf_of, log_in, serve_app

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NAME, PASSWORD = "analyste", USERS["analyste"]
IN_FORCE = [
    {"name": "centres", "any": ["centres d'appels"]},
    {"name": "ia", "any": ["IA", "الذكاء الاصطناعي"]},
]
HOSTILE = "<img src=x onerror=alert(1)> IA"
# (title, summary, days ago, link); text of those 40 days old is pruned (title alone kept)
ITEMS = [
    ("Les Centres d’appels recrutent", "À Casablanca, des emplois.", 1, "https://x.ma/1"),
    ("Un centre d'appel ouvre à Rabat", "Emplois", 2, "https://x.ma/2"),
    ("Les call centers adoptent l'IA", "Au Maroc, les centres d'appels changent.", 3, ""),
    ("Météo", "Beau temps sur le CENTRE-D'APPEL de Fès", 4, "https://x.ma/4"),
    ("تطور الذكاء الإصطناعي في المغرب", "وبالذكاء الاصطناعي", 5, "https://x.ma/5"),
    (HOSTILE, "texte", 6, "javascript:alert(1)"),
    ("Centre d'appel : ancien", "x", 10, "https://x.ma/10"),  # outside 7d, inside 14d
    ("Centre d'appel : élagué", "", 20, "https://x.ma/20"),  # its text pruned
]


def basic(name: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


GOOD = basic(NAME, PASSWORD)


def row(n: int, title: str, summary: str, days: float, link: str) -> dict[str, Any]:
    pruned = not summary
    return {"source": "a", "key": f"k{n}", "article": f"k{n}", "link": link, "title": title,
            "summary": summary, "content": None if pruned else "",
            "seen_at": T0 - timedelta(days=days)}  # fmt: skip


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    config = app_config(rules=IN_FORCE)
    async with serve_app(tmp_path, config, FakeClock(T0)) as running:
        async with transaction(running.engine) as conn:
            await conn.execute(insert(items), [row(n, *i) for n, i in enumerate(ITEMS)])
        yield running


async def api(
    served: Served,
    body: Any,
    auth: dict[str, str] | None = GOOD,
    client: aiohttp.ClientSession | None = None,
) -> tuple[int, Any]:
    async with served.client() as own:
        used = client or own
        async with used.post("/api/rules/try", json=body, headers=auth) as answer:
            return answer.status, await answer.json()


async def page(served: Served, rules: str, window: str = "7d", lang: str = "en") -> tuple[int, str]:
    """The page's answer to the form, in English unless told."""
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)
        async with client.get(f"/rules/try?lang={lang}") as form:
            assert form.status == 200
            token = csrf_of(await form.text())
        data = {"csrf": token, "rules": rules, "window": window}
        async with client.post("/rules/try", data=data) as answer:
            assert answer.headers["Content-Security-Policy"] == CSP
            return answer.status, await answer.text()


def titles(listed: list[dict[str, Any]]) -> list[str]:
    return [item["title"] for item in listed]


async def test_french_folding_explained_with_the_term_marked(served: Served) -> None:
    rules = '- name: cc\n  any: ["centre d\'appel"]\n'
    status, body = await api(served, {"rules": rules, "window": "7d"})
    assert status == 200, body
    assert body["errors"] == [] and body["added"] == [] and body["removed"] == []
    # case, the curly apostrophe, the plural, the hyphen: folded as matching folds them
    assert titles(body["matched"]) == [
        "Les Centres d’appels recrutent",
        "Un centre d'appel ouvre à Rabat",
        "Les call centers adoptent l'IA",
        "Météo",
    ]
    first = body["matched"][0]
    assert first["rules"] == ["cc"] and first["source"] == "a" and first["seen"].endswith("Z")
    assert first["explain"] == {"cc": [
        {"term": "centre d'appel", "field": "title", "start": 4, "end": 20,
         "text": "Centres d’appels"},
    ]}  # fmt: skip
    meteo = body["matched"][3]["explain"]["cc"][0]
    assert (meteo["field"], meteo["text"]) == ("summary", "CENTRE-D'APPEL")
    assert body["rules"] == {"cc": {"in_force": False, "matched": 4, "added": 0, "removed": 0}}
    assert body["scanned"] == 6 and body["titles_only"] == 0 and body["stopped"] is False

    status, html = await page(served, rules)
    assert status == 200
    assert "<mark>Centres d’appels</mark>" in html
    assert "Beau temps sur le <mark>CENTRE-D&#39;APPEL</mark> de Fès" in html
    term = '<b dir="auto">centre d&#39;appel</b></span> <span class="field">(summary)'
    assert term in html


async def test_arabic_folds_as_matching_does_and_shows_with_dir_auto(served: Served) -> None:
    rules = "rules:\n  - name: ar\n    any: [الذكاء الاصطناعي]\n"
    status, body = await api(served, {"rules": rules})  # the window defaults to 7d
    assert status == 200, body
    assert titles(body["matched"]) == ["تطور الذكاء الإصطناعي في المغرب"]
    fields = [(e["field"], e["text"]) for e in body["matched"][0]["explain"]["ar"]]
    assert fields == [("title", "الذكاء الإصطناعي"), ("summary", "وبالذكاء الاصطناعي")]
    status, html = await page(served, rules)
    assert '<a href="https://x.ma/5" rel="noopener noreferrer" dir="auto">' in html
    assert "<mark>الذكاء الإصطناعي</mark>" in html


async def test_the_window_and_the_items_whose_text_is_gone(served: Served) -> None:
    rules = '- name: cc\n  any: ["centre d\'appel"]\n'
    counts = {}
    for window in ("1d", "2d", "7d", "14d", "30d"):
        status, body = await api(served, {"rules": rules, "window": window})
        assert status == 200, body
        counts[window] = (body["rules"]["cc"]["matched"], body["titles_only"])
    assert counts == {"1d": (1, 0), "2d": (2, 0), "7d": (4, 0), "14d": (5, 0), "30d": (6, 1)}
    _, body = await api(served, {"rules": rules, "window": "30d"})
    assert body["matched"][-1]["title"] == "Centre d'appel : élagué"
    assert body["matched"][-1]["text_kept"] is False
    status, html = await page(served, rules, "30d")
    assert "past the time their text is kept (retention.text: 30d), the title alone: 1" in html
    assert html.count('class="badge">title only<') == 1
    status, body = await api(served, {"rules": rules, "window": "60d"})
    assert (status, body) == (400, {"error": "window: one of 1d, 2d, 7d, 14d, 30d"})


async def test_a_changed_rule_says_what_it_adds_and_removes(served: Served) -> None:
    rules = 'rules:\n  - name: centres\n    any: ["call center*", "centres d\'appels"]\n' \
        "    none: [Rabat]\n"  # fmt: skip
    status, body = await api(served, {"rules": rules})
    assert status == 200, body
    assert body["rules"]["centres"] == {"in_force": True, "matched": 3, "added": 0, "removed": 1}
    assert titles(body["removed"]) == ["Un centre d'appel ouvre à Rabat"]
    # removed: explained by the rule in force, which matched it
    assert body["removed"][0]["explain"]["centres"][0]["term"] == "centres d'appels"

    rules = '- name: centres\n  any: ["call center*"]\n- name: neuve\n  any: [Météo]\n'
    status, body = await api(served, {"rules": rules})
    assert body["rules"]["centres"] == {"in_force": True, "matched": 1, "added": 0, "removed": 3}
    assert body["rules"]["neuve"] == {"in_force": False, "matched": 1, "added": 0, "removed": 0}
    assert titles(body["removed"]) == [
        "Les Centres d’appels recrutent", "Un centre d'appel ouvre à Rabat", "Météo",
    ]  # fmt: skip

    rules = "- name: ia\n  any: [IA, Météo]\n"  # in force: ["IA", "الذكاء الاصطناعي"]
    status, body = await api(served, {"rules": rules})
    assert body["rules"]["ia"] == {"in_force": True, "matched": 3, "added": 1, "removed": 1}
    assert titles(body["added"]) == ["Météo"]
    assert titles(body["removed"]) == ["تطور الذكاء الإصطناعي في المغرب"]
    status, html = await page(served, rules)
    for heading in ("Added compared with the rule in force", "Removed: the rule in force"):
        assert f"{heading}" in html
    status, html = await page(served, rules, lang="fr")
    assert '<html lang="fr">' in html and "en vigueur : comparée" in html
    for heading in ("Ajoutés par rapport à la règle en vigueur", "Retirés : la règle en vigueur"):
        assert f"{heading}" in html


@pytest.mark.parametrize(
    ("rules", "errors"),
    [
        ("- name: a\n  any: [IA\n", [(2, 8, "invalid YAML: a '[' list is not closed")]),
        ("- name: a\n   any: [IA]\n", [(2, 7, "invalid YAML: a ': ' where no key")]),
        ("rules:\n  - name: a\n    anyy: [IA]\n", [(3, 5, "rules[0].anyy: unknown key")]),
        (
            "- name: a\n  any: [{rule: nope}]\n  sources: [a, tv]\n",
            [(2, 16, "rules[0].any[0].rule: unknown rule 'nope'"),
             (3, 16, "rules[0].sources[1]: unknown source 'tv'")],
        ),
        ("sources: []\n", [(1, 1, "expected one section, rules")]),
        ("- name: a\n  any: ['${HOME}']\n", [(2, 9, "rules[0].any[0]: environment variable HOME")]),
        ("   \n", [(1, 1, "no rule: paste one or more rules")]),
        ("[]\n", [(1, 1, "no rule: the list of rules is empty")]),
        ("rules: []\n", [(1, 1, "no rule: the list of rules is empty")]),
        ("- name: [a]\n  any: [xy]\n", [(1, 9, "rules[0].name: Input should be a valid")]),
        ("- name: {a: 1}\n  any: [xy]\n", [(1, 9, "rules[0].name: Input should be a valid")]),
        (
            "- name: a\n  any: [xy]\n  sources: [[a]]\n",
            [(3, 13, "rules[0].sources[0]: Input should be a valid string")],
        ),
        (
            "- name: a\n  tags: [[a]]\n  any: [xy]\n",
            [(2, 10, "rules[0].tags[0]: Input should be a valid string")],
        ),
    ],
    ids=["unclosed", "indent", "unknown-key", "unknown-names", "not-rules", "no-env", "empty",
         "empty-list", "empty-rules", "name-list", "name-mapping", "sources-list", "tags-list"],
)  # fmt: skip
async def test_mistakes_are_located_in_the_text(
    served: Served, rules: str, errors: list[tuple[int, int, str]]
) -> None:
    status, body = await api(served, {"rules": rules})
    assert status == 200, body
    found = [(e["line"], e["column"], e["message"]) for e in body["errors"]]
    assert len(found) == len(errors), found
    for (line, column, message), expected in zip(found, errors, strict=True):
        assert (line, column) == expected[:2], found
        assert message.startswith(expected[2]) and "\n" not in message, found
    assert body["matched"] == [] and body["rules"] == {}


async def test_the_page_shows_the_errors_beside_the_text_it_keeps(served: Served) -> None:
    rules = "- name: a\n  anyy: [IA]\n  </textarea><script>alert(1)</script>\n"
    status, html = await page(served, rules)
    assert status == 422
    assert '<code>3:3</code>: <span dir="auto">invalid YAML: a line without' in html
    assert "Traceback" not in html and "<script>" not in html
    kept = "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f">- name: a\n  anyy: [IA]\n  {kept}\n</textarea>" in html
    assert 'aria-invalid="true"' in html


async def test_feed_text_never_runs(served: Served) -> None:
    rules = "- name: ia\n  any: [IA]\n"
    status, html = await page(served, rules)
    assert status == 200
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "javascript:" not in html
    assert re.search(r"<b dir=\"auto\">&lt;img src=x onerror=alert\(1\)&gt; IA</b>", html)
    _, body = await api(served, {"rules": rules})
    assert HOSTILE in titles(body["matched"])  # JSON is data: the client escapes it


async def test_the_bounds(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    long = "- name: a\n  any: [IA]\n" + "#" * trying.MAX_TEXT
    _, body = await api(served, {"rules": long})
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(3, trying.MAX_TEXT - 21)]
    many = "".join(f"- name: r{n}\n  any: [IA]\n" for n in range(trying.MAX_RULES + 1))
    _, body = await api(served, {"rules": many})
    assert body["errors"][0]["message"] == f"{trying.MAX_RULES + 1} rules: try at most 20 at a time"

    async with transaction(served.engine) as conn:
        more = [row(100 + n, f"Dossier IA {n}", "x", 0.5, "") for n in range(7)]
        await conn.execute(insert(items), more)
    monkeypatch.setattr(trying, "SHOWN", 5)
    _, body = await api(served, {"rules": "- name: ia\n  any: [IA]\n"})
    assert body["rules"]["ia"]["matched"] == 9 and len(body["matched"]) == 5
    # the newest: seen at one instant, the last written first
    assert titles(body["matched"]) == [f"Dossier IA {n}" for n in (6, 5, 4, 3, 2)]
    _, html = await page(served, "- name: ia\n  any: [IA]\n")
    assert '<p class="more">4 more, not shown</p>' in html

    monkeypatch.setattr(trying, "MAX_SCANNED", 3)
    _, body = await api(served, {"rules": "- name: ia\n  any: [IA]\n"})
    assert body["scanned"] == 3 and body["stopped"] is True
    assert body["rules"]["ia"]["matched"] == 3


async def test_nothing_is_written(served: Served) -> None:
    async def counts() -> tuple[int, int]:
        async with served.engine.connect() as conn:
            found = await conn.execute(select(func.count()).select_from(items))
            alerted = await conn.execute(select(func.count()).select_from(matches))
            return int(found.scalar_one()), int(alerted.scalar_one())

    config, before = served.holder[0], await counts()
    await api(served, {"rules": "- name: ia\n  any: [Météo]\n- name: neuve\n  any: [IA]\n"})
    await page(served, "- name: ia\n  any: [Météo]\n")
    assert await counts() == before and served.holder[0] is config
    assert [r.name for r in config.rules] == ["centres", "ia"]


async def test_a_form_without_its_csrf_token_is_refused(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)
        data = {"rules": "- name: ia\n  any: [IA]\n", "window": "7d"}
        for token in ({}, {"csrf": "forged"}):
            async with client.post("/rules/try", data={**data, **token}) as answer:
                assert answer.status == 403
                assert "<mark>" not in await answer.text()


async def test_a_cookie_post_to_the_api_must_be_json(served: Served) -> None:
    """What a page of another site can send with the cookie (a form: urlencoded, multipart,
    text/plain) is refused; a JSON body from a page of this site is taken."""
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)
        rules = "- name: ia\n  any: [IA]\n"
        json_text = '{"rules": "- name: ia\\n  any: [IA]\\n"}'
        for body, kind in (
            ({"rules": rules}, None),
            (json_text, "text/plain"),
            (aiohttp.FormData({"rules": rules}), None),
        ):
            headers = {"Content-Type": kind} if kind else None
            async with client.post("/api/rules/try", data=body, headers=headers) as answer:
                assert answer.status == 415, kind
                assert await answer.json() == {"error": "Content-Type: application/json only"}
        status, body = await api(served, {"rules": rules}, auth=None, client=client)
        assert status == 200 and body["rules"]["ia"]["matched"] == 2
        headers = {"Content-Type": "application/json; charset=utf-8"}
        async with client.post("/api/rules/try", data=json_text, headers=headers) as answer:
            assert answer.status == 200


async def test_the_api_needs_a_user(served: Served) -> None:
    status, body = await api(served, {"rules": "- name: ia\n  any: [IA]\n"}, auth=None)
    assert (status, body) == (401, {"error": "unauthorized"})
    wrong = basic(NAME, "not the password")
    status, body = await api(served, {"rules": "- name: ia\n  any: [IA]\n"}, auth=wrong)
    assert status == 401
    status, body = await api(served, {"rules": "- name: ia\n  any: [IA]\n"})
    assert status == 200
    bad: Any
    for bad in ([], {"rules": 3}, {"window": "7d"}):
        status, body = await api(served, bad)
        assert status == 400 and "rules" in body["error"]
    async with served.client() as client:
        async with client.post("/api/rules/try", data=b"{", headers={
            **GOOD, "Content-Type": "application/json"
        }) as answer:  # fmt: skip
            assert answer.status == 400


async def test_the_page_needs_a_session_and_says_what_it_takes(served: Served) -> None:
    async with served.client() as client:
        async with client.get("/rules/try", allow_redirects=False) as answer:
            assert answer.status == 303
            assert answer.headers["Location"] == "/login?next=/rules/try"
        await log_in(client, NAME, PASSWORD)
        for lang, words in (("en", "a “rules:” section"), ("fr", "une section « rules: »")):
            async with client.get(f"/rules/try?lang={lang}") as answer:
                html = await answer.text()
                assert words in html
                assert '<option value="7d" selected>' in html
                # the nav's words (a key named like a dict's method, "items", included)
                assert '<a href="/items">Articles</a>' in html
                assert '<a href="/rules/try" aria-current="page">' in html
                assert 'name="csrf"' in html and 'method="post"' in html


async def test_start_from_a_rule_in_force(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)
        async with client.get("/rules/try?rule=ia&lang=en") as answer:
            html = await answer.text()
        assert "<option selected>ia</option>" in html and "<option>centres</option>" in html
        text = re.search(r'<textarea id="rules"[^>]*>(.*?)</textarea>', html, re.S)
        assert text is not None
        assert text[1] == "- name: ia\n  any: [IA, الذكاء الاصطناعي]\n"
        async with client.get("/rules/try?rule=nope") as answer:
            assert re.search(r'<textarea id="rules"[^>]*></textarea>', await answer.text())
    # tried as it is, the rule in force adds and removes nothing
    _, body = await api(served, {"rules": text[1]})
    assert body["rules"]["ia"] == {"in_force": True, "matched": 3, "added": 0, "removed": 0}


class Watched(trials.Tester):
    """The trial's Tester, as it is, noting for each item it tests how many times the event
    loop had ticked (``ticks``), and which rules its matchers were built from."""

    ticks: ClassVar[list[int]] = [0]
    seen: ClassVar[list[int]] = []
    built: ClassVar[list[tuple[list[str], list[str]]]] = []

    def __init__(
        self, in_force: Any, tags: Any, chosen: Any, scoped: bool, tags_at_match: bool = False
    ) -> None:
        super().__init__(in_force, tags, chosen, scoped, tags_at_match)
        Watched.built.append(([r.name for r in in_force], [r.name for r in chosen.rules]))

    def test(self, item: Any, seen_at: datetime | None = None, tags: Any = ()) -> Any:
        Watched.seen.append(Watched.ticks[0])
        return super().test(item, seen_at, tags)


async def test_the_loop_keeps_ticking_while_a_trial_matches(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The matching runs off the event loop: a task ticking on the loop goes on ticking while
    one chunk of items is matched (on the loop, the count would stay the same from the
    chunk's first item to its last). No latency figure: a loaded CI machine could not keep it."""
    many = 3000
    text = "Le marché des centres d'appels au Maroc, l'emploi et la formation. " * 40
    async with transaction(served.engine) as conn:
        await conn.execute(
            insert(items), [row(1000 + n, f"Dossier {n}", text, 0.5, "") for n in range(many)]
        )
    monkeypatch.setattr(trying, "Tester", Watched)
    monkeypatch.setattr(trying, "CHUNK", 10_000)  # one chunk: no read between the items
    Watched.ticks, Watched.seen, Watched.built = [0], [], []
    running = True

    async def ticker() -> None:
        while running:
            await asyncio.sleep(0)
            Watched.ticks[0] += 1

    ticking = asyncio.create_task(ticker())
    try:
        rules = '- name: centres\n  any: ["centres d\'appels", "call center*"]\n'
        trial = await trying.try_rules(served.engine, served.holder[0], rules, "7d", T0)
    finally:
        running = False
        await ticking
    assert trial.scanned == many + 6 and not trial.stopped
    assert len(Watched.seen) == trial.scanned
    assert Watched.seen[-1] > Watched.seen[0], "the loop did not tick while the items matched"
    # compiled: the candidate and, to compare with, the rule in force of its name; not "ia"
    assert Watched.built == [(["centres"], ["centres"])]


async def test_a_trial_stops_when_its_time_is_up(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past BUDGET seconds the trial stops and says so, the newest items tried. The timer is
    the test's: one second passes each time the trial looks at it."""
    calls = [0.0]

    def timer() -> float:
        calls[0] += 1
        return calls[0]

    served.routes.trials.timer = timer
    monkeypatch.setattr(trying, "BUDGET", 2.5)  # started at 1: the chunks at 2 and 3 are tried
    monkeypatch.setattr(trying, "CHUNK", 2)
    rules = '- name: cc\n  any: ["centre d\'appel", "Météo", "IA"]\n'
    status, body = await api(served, {"rules": rules})
    assert status == 200, body
    assert (body["scanned"], body["stopped"], body["out_of_time"]) == (4, True, True)
    assert body["budget_seconds"] == 2.5
    assert titles(body["matched"]) == [
        "Les Centres d’appels recrutent", "Un centre d'appel ouvre à Rabat",
        "Les call centers adoptent l'IA", "Météo",
    ]  # fmt: skip
    calls[0] = 0.0
    status, html = await page(served, rules)
    assert status == 200
    assert "The trial took the 2.5 seconds it is given: only the newest articles" in html
    calls[0] = 0.0
    _, html = await page(served, rules, lang="fr")
    assert "L&#39;essai a pris les 2.5 secondes qui lui sont accordées" in html
    served.routes.trials.timer = lambda: 0.0  # time stands still: everything is tried
    _, body = await api(served, {"rules": rules})
    assert (body["scanned"], body["stopped"], body["out_of_time"]) == (6, False, False)


async def test_a_trial_asked_while_another_runs_is_refused_at_once(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One trial at a time, and the others are told so (503, in words) rather than queued."""
    gate, entered = threading.Event(), threading.Event()
    real = trying._try_chunk

    def held(*args: Any) -> None:  # the first trial's matching waits for the gate
        entered.set()
        gate.wait(timeout=30)
        real(*args)

    monkeypatch.setattr(trying, "_try_chunk", held)
    rules = "- name: ia\n  any: [IA]\n"
    first = asyncio.create_task(api(served, {"rules": rules}))
    try:
        assert await asyncio.to_thread(entered.wait, 30), "the first trial never started"
        async with served.client() as client:
            async with client.post("/api/rules/try", json={"rules": rules}, headers=GOOD) as a:
                assert a.status == 503 and a.headers["Retry-After"] == "5"
                assert await a.json() == {
                    "error": "busy: another trial is running; try again when it is done"
                }
        status, html = await page(served, rules)
        assert status == 503
        assert "Another trial is running on this server: try again in a moment" in html
        assert ">- name: ia\n  any: [IA]\n</textarea>" in html  # the text is kept
        status, html = await page(served, rules, lang="fr")
        assert status == 503 and "Un autre essai est en cours sur ce serveur" in html
        status, body = await api(served, {"rules": rules, "window": "60d"})
        assert status == 400  # a bad request is still said to be one
    finally:
        gate.set()
    status, body = await asyncio.wait_for(first, 30)
    assert status == 200 and body["rules"]["ia"]["matched"] == 2
    status, body = await api(served, {"rules": rules})  # the lock was given back
    assert status == 200


async def test_in_store_mode_a_rule_scoped_by_tags_is_tried_with_the_stored_tags(
    engine: AsyncEngine,
) -> None:
    await seed_tagged(engine, T0)
    config = Config(sources_from="store", rules=[RuleConfig(name="ia", any=["IA"])])
    text = "rules:\n  - name: maroc\n    any: [IA]\n    tags: [maroc]\n"
    trial = await trying.try_rules(engine, config, text, "7d", T0)
    assert trial.errors == [] and trial.scanned == 2
    (rule,) = trial.rules
    assert rule.counts["matched"] == 1
    assert [shown.stored.item.title for shown in rule.lists["matched"]] == ["IA au Maroc"]
