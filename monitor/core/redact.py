"""What monitor shows of text it does not wholly control: URLs without their secrets, and no
terminal control characters. Every URL shown anywhere (``monitor status``, health notices,
logs, errors, ``check`` and ``db upgrade``) goes through :func:`redact`, redacted one way:

- no userinfo (``https://***@host/``);
- no value of a query parameter whose name says it is secret (``token``, ``key``, ``secret``,
  ``password``, ``auth``, ``sig``, ``api_key``, ``access_token``…: :func:`secret_name`), nor a
  bare ``?VALUE`` (it has no name to judge by); other values stay readable (``?q=…``,
  ``?feed=rss2``);
- no value that came from ``${VAR}`` in the configuration, wherever it sits (host, path, query,
  or any other text): the loader tells :func:`remember_secret` each one it substitutes.

:func:`printable` escapes control characters (C0, DEL, C1, line separators and bidirectional
overrides) visibly, ``\\x1b`` for ESC, so that text from remote servers (robots.txt lines,
headers, titles) cannot move a terminal's cursor or split a log line; :func:`shown` does both.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote

REDACTED = "***"
MIN_SECRET = 4  # characters: a shorter ${VAR} value (a port, "on") is not hunted in text

# A URL in text: scheme, "://", then everything up to white space, a quote or an angle
# bracket, less the punctuation that ends a sentence or a parenthesis ("for URL: none…").
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]*[^\s'\"<>`.,;:!?)\]}]")
# A query parameter is secret when its name holds one of these (``client_secret``, ``apiKey``,
# ``X-Amz-Signature``, ``sessionid``) or ends in one of the short ones (``sig``, ``hmac_key``).
_SECRET_NAME = re.compile(
    r"token|secret|passw|pwd|auth(?!or)|api[-_]?key|signature|credential|session|private|jwt"
    r"|(?:key|sig)$|(?:^|[^a-z])(?:sid|pass|hash|hmac)$"
)
# Control characters: C0, DEL, C1; the line and paragraph separators; the bidirectional
# marks, embeddings, overrides and isolates (they reorder what a terminal shows).
CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_secrets: set[str] = set()
_forms: list[str] = []  # each secret as it may appear in text, longest first


def remember_secret(value: str) -> None:
    """Never show ``value`` (a ``${VAR}`` the configuration used) again, in any text."""
    if len(value) < MIN_SECRET or value in _secrets:
        return
    _secrets.add(value)
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value)}
    _forms[:] = sorted({*_forms, *(f for f in forms if len(f) >= MIN_SECRET)}, key=len)[::-1]


def remembered_secrets() -> list[str]:
    """Every value :func:`remember_secret` was told (a child process that loaded the
    configuration sends them to the daemon)."""
    return sorted(_secrets)


def forget_secrets() -> None:
    """Forget every value :func:`remember_secret` was told (a test starts with none)."""
    _secrets.clear()
    _forms.clear()


def secret_name(name: str) -> bool:
    """Whether a query parameter named ``name`` holds a secret, by its name."""
    return _SECRET_NAME.search(unquote(name).lower()) is not None


def _redact_query(query: str) -> str:
    parts = []
    for part in re.split(r"([&;])", query):
        if part in ("&", ";") or not part:
            parts.append(part)
        elif "=" in part:
            name, _, value = part.partition("=")
            parts.append(f"{name}={REDACTED if value and secret_name(name) else value}")
        else:
            parts.append(REDACTED)  # a bare value (``?SECRET``): no name to judge it by
    return "".join(parts)


def _hide_secrets(text: str) -> str:
    for form in _forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def _redact_one(url: str) -> str:
    scheme, _, rest = url.partition("://")
    cut = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        authority = REDACTED + "@" + authority.rpartition("@")[2]
    path, mark, query = tail.partition("?")
    if mark:
        query, hash_, fragment = query.partition("#")
        tail = path + "?" + _redact_query(query) + hash_ + fragment
    return f"{scheme}://{authority}{tail}"


def redact_url(url: str) -> str:
    """``url`` as it may be shown: see the module's docstring."""
    return _hide_secrets(_redact_one(url) if "://" in url else url)


def redact(text: str) -> str:
    """``text`` with every URL in it redacted and every ``${VAR}`` value hidden; the rest
    unchanged."""
    if "://" in text:
        text = _URL.sub(lambda found: _redact_one(found[0]), text)
    return _hide_secrets(text)


def _escape(found: re.Match[str]) -> str:
    char = found[0]
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\n``…); with ``lines``,
    line feeds and tabs are kept (a digest printed whole)."""
    if lines:
        return CONTROL.sub(lambda found: found[0] if found[0] in "\n\t" else _escape(found), text)
    return CONTROL.sub(_escape, text)


def printable_json(text: str) -> str:
    """A JSON text with the control characters JSON leaves raw (DEL, C1, bidirectional
    overrides, line separators) escaped as ``\\u…``: the same value, read back."""
    return CONTROL.sub(lambda found: f"\\u{ord(found[0]):04x}", text)


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def shown(text: str) -> str:
    """``text`` fit to print on one line: redacted, control characters escaped."""
    return printable(redact(text))
