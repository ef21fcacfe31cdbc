"""The one email a sign-up sends (``/subscribe``), in the language the visitor chose (every
digest language): a confirmation link, or, to an address that already receives digests, a link
to its preferences instead (it never gets a second subscription).

It goes through the project's SMTP code (monitor.notifiers.smtp_pool, the headers made safe as
monitor.notifiers.email makes them). It is sent once: a failure is logged and dropped, never
retried here, so an address the server refuses for good (5xx) gets nothing more; the visitor
may ask again after the per-address wait (monitor.store.signups)."""

from __future__ import annotations

import email.policy
import logging
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid, parseaddr
from enum import Enum
from typing import Protocol

import aiosmtplib

from monitor.config.sections import SmtpConfig
from monitor.core.logs import event
from monitor.notifiers.email import header_text, message_domain
from monitor.notifiers.smtp_pool import SmtpPool

# (subject, body with {url}) per language, per kind of email
CONFIRM = {
    "fr": (
        "Confirmez votre abonnement",
        "Quelqu'un (vous, sans doute) a demandé à recevoir nos résumés à cette adresse.\n\n"
        "Pour confirmer, ouvrez ce lien dans les 48 heures, puis appuyez sur le bouton :\n"
        "{url}\n\nSi ce n'est pas vous, ignorez ce message : rien ne vous sera envoyé.\n",
    ),
    "en": (
        "Confirm your subscription",
        "Someone (probably you) asked to receive our digests at this address.\n\n"
        "To confirm, open this link within 48 hours, then press its button:\n"
        "{url}\n\nIf this was not you, ignore this message: nothing will be sent to you.\n",
    ),
    "ar": (
        "أكّد اشتراكك",
        "طلب أحدهم (أنت على الأرجح) تلقّي ملخصاتنا على هذا العنوان.\n\n"
        "للتأكيد، افتح هذا الرابط خلال 48 ساعة ثم اضغط الزر:\n"
        "{url}\n\nإن لم تكن أنت، فتجاهل هذه الرسالة: لن يُرسل إليك شيء.\n",
    ),
}
ALREADY = {
    "fr": (
        "Vous êtes déjà abonné",
        "Quelqu'un (vous, sans doute) a demandé à s'abonner avec cette adresse, qui reçoit déjà "
        "nos résumés.\n\nPour changer ce que vous recevez, ouvrez vos préférences :\n"
        "{url}\n\nSi ce n'est pas vous, ignorez ce message : rien n'a changé.\n",
    ),
    "en": (
        "You are already subscribed",
        "Someone (probably you) asked to subscribe with this address, which already receives "
        "our digests.\n\nTo change what you receive, open your preferences:\n"
        "{url}\n\nIf this was not you, ignore this message: nothing changed.\n",
    ),
    "ar": (
        "أنت مشترك بالفعل",
        "طلب أحدهم (أنت على الأرجح) الاشتراك بهذا العنوان، وهو يتلقّى ملخصاتنا بالفعل.\n\n"
        "لتغيير ما تتلقّاه، افتح تفضيلاتك:\n"
        "{url}\n\nإن لم تكن أنت، فتجاهل هذه الرسالة: لم يتغيّر شيء.\n",
    ),
}


class Mailer(Protocol):
    """What sends a message (monitor.notifiers.smtp_pool.SmtpPool)."""

    async def send(
        self, message: Message | bytes, sender: str, recipients: Sequence[str]
    ) -> str: ...


def message(
    smtp: SmtpConfig, to: str, words: tuple[str, str], url: str, now: datetime
) -> EmailMessage:
    """The email to ``to`` (a normalised address: no control character) saying ``words``."""
    sender = parseaddr(smtp.from_)[1]
    subject, body = words
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"], mail["To"] = smtp.from_, to
    mail["Subject"] = header_text(subject)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain=message_domain(sender))
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    mail.set_content(body.format(url=url))
    return mail


class Sent(Enum):
    """What became of a sign-up's email."""

    SENT = "sent"
    FAILED = "failed"  # (for now: the next request may send again)
    REFUSED = "refused"  # the receiver refused the address for good (5xx): not again


async def send_once(smtp: SmtpConfig, mailer: Mailer | None, mail: EmailMessage) -> Sent:
    """Send ``mail`` once; what became of it (logged, the address never). Never raises: it
    runs as a background task that nobody awaits."""
    sender = parseaddr(smtp.from_)[1]
    try:
        await (mailer or SmtpPool(smtp, keep=False)).send(mail, sender, [str(mail["To"])])
    except aiosmtplib.SMTPRecipientRefused as exc:
        permanent = exc.code >= 500  # the address refused for good: not again
        event("signup-mail-refused", level=logging.WARNING, code=exc.code, permanent=permanent)
        return Sent.REFUSED if permanent else Sent.FAILED
    except aiosmtplib.SMTPResponseException as exc:
        # the server's own trouble (login, sender, data): says nothing of the address
        event("signup-mail-failed", level=logging.WARNING, code=exc.code)
        return Sent.FAILED
    except aiosmtplib.SMTPRecipientsRefused as exc:
        permanent = all(refused.code >= 500 for refused in exc.recipients)
        event("signup-mail-refused", level=logging.WARNING, permanent=permanent)
        return Sent.REFUSED if permanent else Sent.FAILED
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as exc:
        # (ValueError: an address or header the mail library will not write)
        event("signup-mail-failed", level=logging.WARNING, error=type(exc).__name__)
        return Sent.FAILED
    return Sent.SENT
