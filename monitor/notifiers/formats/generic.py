"""The generic webhook body (DESIGN §3.5): the digest as JSON, in one request, signed.

The only format that carries the Standard Webhooks headers (``Request.signed``): its receivers
are ours to write and can verify them; chat services ignore such headers, and a preset's
messages are not the §3.5 document a receiver would verify.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.core.models import Digest, DigestItem
from monitor.digest.render import Renderer
from monitor.notifiers.formats.base import Request, Target, encode_json


def iso_utc(moment: datetime) -> str:
    """``2026-11-26T08:00:00Z``: UTC, whole seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def item_payload(item: DigestItem) -> dict[str, object]:
    return {
        "id": item.id,
        "title": item.title,
        "link": item.link,
        "source": item.source,
        "published": iso_utc(item.published) if item.published is not None else None,
        "summary": item.summary,
        "rules": list(item.rules),
        "terms": {rule: list(terms) for rule, terms in item.terms.items()},
        # where each term was found: field and character span in that field's plain text
        "explain": {
            rule: [
                {"term": hit.term, "field": hit.field, "start": hit.start, "end": hit.end}
                for of_rule, hit in item.hits or ()
                if of_rule == rule
            ]
            for rule in item.rules
        },
    }


def payload(digest: Digest) -> dict[str, object]:
    return {
        "type": "digest",
        "id": digest.id,
        "subscriber": digest.subscriber,
        "created": iso_utc(digest.created),
        "items": [item_payload(item) for item in digest.items],
    }


def encode_body(digest: Digest) -> bytes:
    return encode_json(payload(digest))


def build(digest: Digest, renderer: Renderer, target: Target) -> list[Request]:
    return [Request(url=target.url, body=encode_body(digest), signed=True)]
