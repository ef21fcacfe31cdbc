"""The one exception tree of monitor. Library errors are translated at the I/O boundary.

    MonitorError
    ├── ConfigError            the configuration cannot be used (carries every problem found)
    ├── StoreError             the database cannot be read or written
    │   └── NoStore            there is no store where ``storage:`` points (nothing made)
    ├── SourceError            one poll of one source failed; the source backs off
    │   ├── FetchError         transport or HTTP failure
    │   │   ├── Unreachable        no server answered: a name that does not resolve, a
    │   │   │                      connection refused or with no route (``reason`` says which)
    │   │   ├── AddressRefused     the address guard refused a hop (not retried sooner)
    │   │   ├── FetchTimeout       the total deadline passed
    │   │   ├── ResponseTooLarge   the decoded body passed network.max_bytes
    │   │   └── HTTPStatusError    a non-2xx, non-304 answer (status, retry_after)
    │   └── ParseError         the body is not a feed we can read
    └── NotifyError            one delivery failed
        ├── TransientNotifyError   retried later with backoff
        └── PermanentNotifyError   dead-lettered at once
            └── ReceiverGone       the receiver said it is gone (HTTP 410): subscriber disabled

"Not modified" is a return value (see monitor.net.http), never an exception.
"""

from __future__ import annotations

from datetime import timedelta


class MonitorError(Exception):
    """Base of every error monitor raises on purpose."""


class ConfigError(MonitorError):
    """The configuration is invalid; ``problems`` holds one ``PATH:LINE:COL: key: message`` each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class StoreError(MonitorError):
    """The database failed or is not usable."""


class NoStore(StoreError):
    """No store where ``storage:`` points: no SQLite file, no such PostgreSQL database, or one
    without the schema. Read-only commands say so and create nothing."""

    def __init__(self, where: str) -> None:
        super().__init__(f"no store at {where} (start the daemon once, or check storage:)")
        self.where = where


class SourceError(MonitorError):
    """A poll of one source failed."""


class FetchError(SourceError):
    """The source could not be fetched."""


class Unreachable(FetchError):
    """No connection could be made; ``reason`` says why in a few words (``name resolution``,
    ``connection refused``, ``no route``), for the line a daemon logs when no source answers."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class AddressRefused(FetchError):
    """A connection was refused by the address guard (network.allow)."""


class FetchTimeout(FetchError):
    """The request did not finish within network.timeout."""


class ResponseTooLarge(FetchError):
    """The decoded body was larger than network.max_bytes."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ParseError(SourceError):
    """The body is not a readable feed."""


class NotifyError(MonitorError):
    """A digest could not be delivered."""


class TransientNotifyError(NotifyError):
    """Worth retrying later: timeouts, 5xx, SMTP 4xx, connection errors."""


class PermanentNotifyError(NotifyError):
    """Retrying will not help: SMTP 5xx, HTTP 4xx, refused address."""


class ReceiverGone(PermanentNotifyError):
    """The receiver answered 410 Gone: stop sending to this subscriber."""
