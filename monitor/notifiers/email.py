"""The email notifier: one multipart/alternative message per digest, over aiosmtplib (§3.6).

- Message-ID is derived from the digest id, so a retry after a lost 250 carries the same id and
  the recipient's client can fold the duplicates.
- The Subject is built from feed titles: control characters are already gone (Renderer.subject)
  and encoded-word openers ``=?`` are broken up, because Python's email package decodes them when
  a header is set and a ``=?UTF-8?Q?=0A?=`` would become a real line break (CVE-2024-6923).
- RFC 5321 classes: 4yz and connection failures are transient, 5yz permanent. A connection
  that fails is said in words (``connection refused by HOST:PORT``).
- The SMTP password never appears in an error message: server replies are scrubbed of it (and of
  its base64 AUTH forms), and when scrubbing was needed the library exception is not chained.
"""

from __future__ import annotations

import base64
import email.charset
import email.policy
import random
import re
import sys
import traceback
from datetime import datetime
from email.charset import Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import quote

import aiosmtplib
from aiosmtplib.email import flatten_message

from monitor.config.sections import SmtpConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import (
    ConfigError,
    NotifyError,
    PermanentNotifyError,
    TransientNotifyError,
)
from monitor.core.models import Digest
from monitor.digest.render import clean_line
from monitor.net.words import in_words
from monitor.notifiers.base import NotifierContext
from monitor.notifiers.smtp_pool import SmtpPool

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# email.generator's boundary: 15 "=", a random number of as many digits as sys.maxsize, "=="
_BOUNDARY_TOKEN = f"%0{len(repr(sys.maxsize - 1))}d"
# what MIMEText(..., "plain" or "html", "utf-8") writes before its body, and the blank line
_PLAIN_HEADERS = (
    b'\nContent-Type: text/plain; charset="utf-8"\nMIME-Version: 1.0\n'
    b"Content-Transfer-Encoding: base64\n\n"
)
_HTML_HEADERS = _PLAIN_HEADERS.replace(b"text/plain", b"text/html")


def header_text(value: str) -> str:
    """A header value that cannot become two headers, even through RFC 2047 decoding."""
    return clean_line(value).replace("=?", "= ?")


def message_domain(address: str) -> str:
    """The right-hand side for Message-IDs: the From domain, in ASCII."""
    domain = address.rpartition("@")[2].strip().lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = ""
    return domain if domain and not _ID_UNSAFE.search(domain) else "monitor.invalid"


def message_id(digest_id: str, domain: str) -> str:
    return f"<{_ID_UNSAFE.sub('_', digest_id)}@{domain}>"


class EmailNotifier:
    def __init__(self, subscriber: SubscriberConfig, context: NotifierContext) -> None:
        if subscriber.email is None:
            raise ConfigError([f"subscribers.{subscriber.name}: an email subscriber needs 'email'"])
        if context.smtp is None:
            raise ConfigError([f"subscribers.{subscriber.name}: email needs an 'smtp' section"])
        self.subscriber = subscriber.name
        self.to = subscriber.email
        self.smtp: SmtpConfig = context.smtp
        self.renderer = context.renderer
        self.sender = parseaddr(self.smtp.from_)[1]
        if "@" not in self.sender:
            raise ConfigError([f"smtp.from: no email address in {self.smtp.from_!r}"])
        self.domain = message_domain(self.sender)
        self.international = not (self.sender.isascii() and self.to.isascii())
        # (legacy API) a display name beyond ASCII is written as RFC 2047 words
        self.from_header = "" if self.international else formataddr(parseaddr(self.smtp.from_))
        self.unsubscribe_url = context.unsubscribe_url
        self.preferences_url = context.preferences_url
        self.mailer = context.mailer or SmtpPool(self.smtp, keep=False)
        self.clock = context.clock

    def message(self, digest: Digest, now: datetime | None = None) -> Message | bytes:
        """The message for ``digest``; identical on every retry but for the Date header.

        Bytes, as aiosmtplib would flatten the legacy MIME message (see :meth:`build`), except
        for addresses beyond ASCII: an EmailMessage then, which aiosmtplib writes for SMTPUTF8."""
        subject = self.renderer.subject(digest)
        # a token issued when the digest was formed: a retry carries the same link, a new
        # digest a fresh one (valid 90 days from it)
        links = self.preferences_url
        preferences = "" if links is None else links(self.subscriber, self.to, digest.created)
        text = self.renderer.text(digest, preferences=preferences)
        html = self.renderer.html(digest, preferences=preferences)
        if self.international:  # only the modern API writes UTF-8 addresses (for SMTPUTF8)
            modern = EmailMessage(policy=email.policy.SMTP)
            modern["From"], modern["To"] = self.smtp.from_, self.to
            modern["Subject"] = header_text(subject)
            for name, value in self._headers(digest, now):
                modern[name] = value
            modern.set_content(text)
            modern.add_alternative(html, subtype="html")
            return modern
        return self.build(digest, subject, text, html, now)

    def build(
        self, digest: Digest, subject: str, text: str, html: str, now: datetime | None = None
    ) -> bytes:
        """The multipart/alternative message of the rendered ``subject``, ``text`` and ``html``
        (ASCII addresses), as the bytes aiosmtplib's ``send_message`` would make of the legacy
        API's message (MIMEMultipart of two utf-8 MIMEText parts, flattened with the compat32
        policy): its headers are folded by the email package, its bodies written here, the
        bulk of the work (issue 19: base64 in one call, not a generator pass line by line).
        tests/notifiers/test_notifiers_email.py holds the two byte for byte equal."""
        # the legacy API, three times cheaper than the modern one (issue 7: hundreds of emails a
        # second): its headers are not parsed when set, and each value here is already safe
        msg = MIMEMultipart("alternative")
        msg["From"], msg["To"] = self.from_header, self.to
        # (typeshed has str only; the stdlib documents a Header here: RFC 2047 words, folded)
        msg["Subject"] = Header(header_text(subject), "utf-8")  # type: ignore[assignment]
        for name, value in self._headers(digest, now):
            msg[name] = value
        utf8 = Charset("utf-8")
        if utf8.body_encoding != email.charset.BASE64 or utf8.get_output_charset() != "utf-8":
            # the process changed how the email package writes utf-8 (apprise's email plugin,
            # once loaded, registers quoted-printable): let it write the bodies its way
            msg.attach(MIMEText(text, "plain", "utf-8"))
            msg.attach(MIMEText(html, "html", "utf-8"))
            return flatten_message(msg)
        # the boundary as email.generator draws it; it cannot occur in base64 nor in our part
        # headers, so the generator's check of the text for it would always pass
        boundary = "=" * 15 + _BOUNDARY_TOKEN % random.randrange(sys.maxsize) + "=="
        msg.set_boundary(boundary)
        fold = email.policy.compat32.fold_binary
        separator = b"\n--" + boundary.encode("ascii")
        return b"".join(
            [
                *(fold(name, value) for name, value in msg.raw_items()),
                b"\n",
                separator[1:],
                _PLAIN_HEADERS,
                base64.encodebytes(text.encode("utf-8")),
                separator,
                _HTML_HEADERS,
                base64.encodebytes(html.encode("utf-8")),
                separator,
                b"--\n",
            ]
        )

    def _headers(self, digest: Digest, now: datetime | None) -> list[tuple[str, str]]:
        """The headers after the subject: ASCII by construction."""
        unsubscribe = quote(f"unsubscribe {self.subscriber}", safe="")
        mailto = f"<mailto:{self.sender}?subject={unsubscribe}>"
        headers = [
            ("Date", format_datetime(now or self.clock())),
            ("Message-ID", message_id(digest.id, self.domain)),
            # the digest's id for whoever traces a delivery (the footer shows whom and when)
            ("X-Monitor-Digest", _ID_UNSAFE.sub("_", digest.id)),
        ]
        if self.unsubscribe_url is None:
            headers.append(("List-Unsubscribe", mailto))
        else:  # RFC 8058 one-click; the token is issued when the digest was formed
            url = self.unsubscribe_url(self.subscriber, self.to, digest.created)
            headers.append(("List-Unsubscribe", f"<{url}>, {mailto}"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        headers.append(("Auto-Submitted", "auto-generated"))  # RFC 3834: no vacation replies
        return headers

    async def send(self, digest: Digest) -> str:
        smtp = self.smtp
        password = smtp.password.get_secret_value() if smtp.password is not None else None
        try:
            # the envelope's recipient is the configured address, never read from headers
            reply = await self.mailer.send(self.message(digest), self.sender, [self.to])
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            secrets = self._secret_forms(password)
            error = self._translate(exc, secrets)
            shown = "".join(traceback.format_exception(exc)) + repr(exc.args)
            if any(secret in shown for secret in secrets):
                raise error from None  # the original text carries the secret: do not chain it
            raise error from exc
        # (aiosmtplib returns only after a 250 to the message: any other code raises)
        return _scrub(f"250 {reply}", self._secret_forms(password))

    def _translate(self, exc: BaseException, secrets: list[str]) -> NotifyError:
        where = f"email {self.subscriber} via {self.smtp.host}:{self.smtp.port}"
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            codes = [refusal.code for refusal in exc.recipients]
            text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            kind: type[NotifyError] = (
                PermanentNotifyError if codes and min(codes) >= 500 else TransientNotifyError
            )
            return kind(_scrub(f"{where}: recipients refused: {text}", secrets))
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            kind = PermanentNotifyError if exc.code >= 500 else TransientNotifyError
            answer = f"{exc.code} {exc.message}"
            if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                answer = f"SMTP server refused login ({answer})"
            elif isinstance(exc, aiosmtplib.SMTPConnectResponseError):
                answer = f"SMTP server refused the connection ({answer})"
            return kind(_scrub(f"{where}: {answer}", secrets))
        if isinstance(exc, aiosmtplib.SMTPNotSupported):
            return PermanentNotifyError(_scrub(f"{where}: {exc}", secrets))
        host, port = self.smtp.host, self.smtp.port
        said = in_words(exc, host, port, self.smtp.timeout.total_seconds())
        if said is None and isinstance(exc, aiosmtplib.SMTPServerDisconnected):
            said = f"{host} closed the connection"
        detail = said or str(exc) or type(exc).__name__
        return TransientNotifyError(_scrub(f"{where}: {detail}", secrets))

    def _secret_forms(self, password: str | None) -> list[str]:
        """The password as typed and as the AUTH PLAIN and LOGIN exchanges carry it."""
        if not password:
            return []
        user = (self.smtp.username or "").encode()
        raw = password.encode()
        forms = [
            password,
            base64.b64encode(raw).decode(),
            base64.b64encode(b"\0" + user + b"\0" + raw).decode(),
        ]
        return [form for form in forms if form]


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return clean_line(text)
