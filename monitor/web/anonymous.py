"""CSRF tokens for the forms of visitors who have no session (the login form, the subscribers'
pages): a random nonce kept in a cookie scoped to the form's path, and a token that is an HMAC of
it (monitor.web.session.Sessions.csrf). A token lifted from another browser does not match that
browser's cookie, so a forged cross-site POST is refused."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from monitor.web.session import Sessions, new_nonce


class AnonymousForms:
    def __init__(self, sessions: Sessions, cookie: str, path: str) -> None:
        self.sessions, self.cookie, self.path = sessions, cookie, path

    def nonce(self, request: web.Request) -> str:
        """The browser's nonce, or a new one (then :meth:`keep` it on the answer)."""
        return request.cookies.get(self.cookie) or new_nonce()

    def token(self, nonce: str) -> str:
        """The CSRF token of a form shown with ``nonce``."""
        return self.sessions.csrf(nonce)

    def keep(self, response: web.StreamResponse, nonce: str, secure: bool) -> None:
        response.set_cookie(
            self.cookie, nonce, path=self.path, httponly=True, samesite="Lax", secure=secure
        )

    def ok(self, request: web.Request, form: Mapping[str, object]) -> bool:
        """Whether the posted ``form`` carries the token of this browser's nonce."""
        return self.sessions.csrf_ok(request.cookies.get(self.cookie), form.get("csrf"))

    def forget(self, response: web.StreamResponse) -> None:
        response.del_cookie(self.cookie, path=self.path)
