"""Signing in to the web app, for real over loopback (aiohttp client with a cookie jar): the
login form, the session cookie and its expiry on a fake clock, CSRF, redirects that stay on the
site, 401 for the API, the throttle on wrong passwords, the headers of every page, French and
English, and no route at all without ``http.app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from monitor.store.standing import Unsubscription
from monitor.web.guard import CSP, local_path
from monitor.web.server import WebServer
from monitor.web.unsubscribe import TokenClaim
from tests.support.peers import FakeClock
from tests.support.webapp import USERS, Served, app_config, csrf_of, log_in, serve_app

NAME, PASSWORD = "analyste", USERS["analyste"]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serve_app(tmp_path, app_config(session="2h"), FakeClock()) as running:
        yield running


def session_cookie(client: aiohttp.ClientSession) -> str | None:
    found = [c.value for c in client.cookie_jar if c.key == "monitor_session"]
    return found[0] if found else None


async def test_pages_redirect_to_login_and_back_after_it(served: Served) -> None:
    async with served.client() as client:
        async with client.get("/?state=failing", allow_redirects=False) as answer:
            assert answer.status == 303
            location = URL(answer.headers["Location"])
            assert location.path == "/login" and location.query["next"] == "/?state=failing"
        answer = await log_in(client, NAME, PASSWORD, "/?state=failing")
        assert answer.status == 303 and answer.headers["Location"] == "/?state=failing"
        cookie = answer.headers.getall("Set-Cookie")
        (session,) = [c for c in cookie if c.startswith("monitor_session=")]
        assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session
        assert "Max-Age=7200" in session
        async with client.get("/") as page:
            assert page.status == 200
            assert NAME in await page.text()


async def test_a_session_ends_after_http_app_session(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)
        served.clock.advance(timedelta(hours=2) - timedelta(seconds=1))
        async with client.get("/", allow_redirects=False) as page:
            assert page.status == 200
        served.clock.advance(timedelta(seconds=1))
        async with client.get("/", allow_redirects=False) as page:
            assert page.status == 303 and page.headers["Location"].startswith("/login")


async def test_logout_needs_the_sessions_csrf_token(served: Served) -> None:
    async with served.client() as client, served.client() as other:
        await log_in(client, NAME, PASSWORD)
        await log_in(other, "relecteur", USERS["relecteur"])
        async with other.get("/") as page:
            foreign = csrf_of(await page.text())  # a token of another session
        async with client.get("/") as page:
            token = csrf_of(await page.text())
        for data in ({}, {"csrf": ""}, {"csrf": foreign}, {"csrf": token + "x"}):
            async with client.post("/logout", data=data, allow_redirects=False) as refused:
                assert refused.status == 403, data
        async with client.get("/", allow_redirects=False) as page:
            assert page.status == 200  # still signed in
        async with client.post("/logout", data={"csrf": token}, allow_redirects=False) as out:
            assert out.status == 303 and out.headers["Location"] == "/login"
        assert session_cookie(client) in (None, "")
        async with client.get("/", allow_redirects=False) as page:
            assert page.status == 303


async def test_login_needs_the_forms_csrf_token(served: Served) -> None:
    async with served.client() as client:
        data = {"name": NAME, "password": PASSWORD, "csrf": "forged"}
        async with client.post("/login", data=data, allow_redirects=False) as answer:
            assert answer.status == 403
        assert session_cookie(client) is None
    async with served.client() as client, served.client() as other:
        async with other.get("/login") as form:  # a token for another browser
            token = csrf_of(await form.text())
        async with client.get("/login") as form:
            await form.read()
        data["csrf"] = token
        async with client.post("/login", data=data, allow_redirects=False) as answer:
            assert answer.status == 403


async def test_the_answer_never_tells_whether_a_name_exists(served: Served) -> None:
    async with served.client() as client:
        wrong = await log_in(client, NAME, "not it")
        unknown = await log_in(client, "personne", "not it")
        assert wrong.status == unknown.status == 401
        assert session_cookie(client) is None
    async with served.client() as client:
        async with client.get("/login") as form:
            token = csrf_of(await form.text())
        texts = []
        for name in (NAME, "personne"):
            data = {"csrf": token, "name": name, "password": "x", "next": "/"}
            async with client.post("/login", data=data, headers={"Accept-Language": "en"}) as a:
                texts.append((await a.text()).replace(name, "NAME"))
        assert texts[0] == texts[1]
        assert "Wrong name or password." in texts[0]


@pytest.mark.parametrize("name", [NAME, "personne"])
async def test_five_wrong_passwords_in_a_minute_pause_the_name(served: Served, name: str) -> None:
    async with served.client() as client:
        for _ in range(5):
            assert (await log_in(client, name, "guess")).status == 401
            served.clock.advance(timedelta(seconds=10))
        paused = await log_in(client, name, "guess")
        assert paused.status == 429  # the same for a configured name and an unknown one
        right = await log_in(client, NAME, PASSWORD)  # even the right password, for a while
        assert right.status == (429 if name == NAME else 303)
    if name == NAME:
        async with served.client() as other:  # other names are not paused
            assert (await log_in(other, "relecteur", USERS["relecteur"])).status == 303
        served.clock.advance(timedelta(seconds=61))
        async with served.client() as client:
            assert (await log_in(client, NAME, PASSWORD)).status == 303


async def test_failures_spread_over_more_than_a_minute_do_not_pause(served: Served) -> None:
    async with served.client() as client:
        for _ in range(8):
            assert (await log_in(client, NAME, "guess")).status == 401
            served.clock.advance(timedelta(seconds=16))
        assert (await log_in(client, NAME, PASSWORD)).status == 303


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/items?q=x", "/items?q=x"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
    ],
)
def test_next_is_only_ever_a_local_path(given: str, kept: str) -> None:
    assert local_path(given) == kept


async def test_login_sends_nowhere_else(served: Served) -> None:
    async with served.client() as client:
        answer = await log_in(client, NAME, PASSWORD, "//evil.example/x")
        assert answer.headers["Location"] == "/"
        async with client.get("/login?next=https://evil.example/", allow_redirects=False) as a:
            assert a.status == 303 and a.headers["Location"] == "/"  # signed in already


async def test_api_answers_401_without_a_session(served: Served) -> None:
    async with served.client() as client:
        async with client.get("/api/items", allow_redirects=False) as answer:
            assert answer.status == 401
            assert await answer.json() == {"error": "unauthorized"}
        await log_in(client, NAME, PASSWORD)
        async with client.get("/api/items", allow_redirects=False) as answer:
            assert answer.status == 200
        async with client.get("/api/nothing", allow_redirects=False) as answer:
            assert answer.status == 404


async def test_every_page_has_strict_headers(served: Served) -> None:
    async with served.client() as client:
        async with client.get("/login") as answer:
            assert answer.headers["Content-Security-Policy"] == CSP
        await log_in(client, NAME, PASSWORD)
        for path, status in [("/", 200), ("/static/app.css", 200), ("/api/x", 404)]:
            async with client.get(path, allow_redirects=False) as answer:
                assert answer.status == status, path
                csp = answer.headers["Content-Security-Policy"]
                assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
                assert "form-action 'self'" in csp and "unsafe" not in csp
                assert answer.headers["X-Frame-Options"] == "DENY"
                assert answer.headers["Referrer-Policy"] == "same-origin"
                assert answer.headers["X-Content-Type-Options"] == "nosniff"
        async with client.get("/static/app.css") as css:
            assert css.content_type == "text/css" and "body" in await css.text()
        async with client.get("/static/../pages.py", allow_redirects=False) as answer:
            assert answer.status == 404


async def test_secure_cookie_when_base_url_is_https(tmp_path: Path) -> None:
    config = app_config(base_url="https://veille.example.ma")
    async with serve_app(tmp_path, config, FakeClock()) as served, served.client() as client:
        async with client.get("/login") as form:  # (behind the proxy: a plain HTTP client)
            token, login_cookie = csrf_of(await form.text()), form.cookies["monitor_login"]
        assert login_cookie["secure"]
        data = {"csrf": token, "name": NAME, "password": PASSWORD, "next": "/"}
        headers = {"Cookie": f"monitor_login={login_cookie.value}"}
        async with client.post("/login", data=data, headers=headers, allow_redirects=False) as a:
            assert a.status == 303
            session = a.cookies["monitor_session"]
        assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


async def test_french_or_english_with_a_switch(served: Served) -> None:
    async with served.client() as client:
        async with client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}) as a:
            assert "Mot de passe" in await a.text()
        async with client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}) as a:
            text = await a.text()
            assert "Password" in text and 'href="/login?lang=fr"' in text
        async with client.get("/login?lang=fr", headers={"Accept-Language": "en"}) as a:
            assert "Mot de passe" in await a.text()
        async with client.get("/login", headers={"Accept-Language": "en"}) as a:
            assert "Mot de passe" in await a.text()  # kept in a cookie


async def test_a_password_change_ends_the_users_sessions(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)
        served.holder[0] = app_config(session="2h")  # new salts: new hash lines
        async with client.get("/", allow_redirects=False) as page:
            assert page.status == 303


async def test_without_http_app_no_route_of_it_exists(tmp_path: Path) -> None:
    async def unsubscribe(claim: TokenClaim) -> Unsubscription:
        return Unsubscription.UNKNOWN

    server = WebServer(b"k" * 32, unsubscribe, FakeClock(), "127.0.0.1", 0)
    port = await server.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
            for path in ("/", "/login", "/static/app.css", "/api/items"):
                async with client.get(path, allow_redirects=False) as answer:
                    assert answer.status == 404, path
    finally:
        await server.close()


async def test_over_long_names_are_wrong_and_not_remembered(served: Served) -> None:
    async with served.client() as client:
        for n in range(7):
            answer = await log_in(client, "x" * 101 + str(n), "guess")
            assert answer.status == 401
    assert served.routes.access.throttle._failures == {}
    async with served.client() as client:
        assert (await log_in(client, "x" * 100, "guess")).status == 401
    assert list(served.routes.access.throttle._failures) == ["x" * 100]


async def test_an_undecodable_form_is_refused_not_an_error(served: Served) -> None:
    body, headers = b"csrf=\xff\xfe%zz", {"Content-Type": "multipart/form-data"}  # no boundary
    async with served.client() as client:
        async with client.post("/login", data=body, headers=headers) as answer:
            assert answer.status == 403
        await log_in(client, NAME, PASSWORD)
        async with client.post("/logout", data=body, headers=headers) as answer:
            assert answer.status == 403
