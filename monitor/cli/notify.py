"""``monitor notify SUBSCRIBER --test``: a sample digest sent through the subscriber's real
channel (its SMTP server, its webhook in its format and with its signature, its Apprise
service, the console), rendered by its templates and marked as a test, and what the receiver
answered. The store is neither read nor written: nothing is recorded as delivered."""

from __future__ import annotations

import sys

from yarl import URL

from monitor.config.model import Config
from monitor.config.subscribers import SubscriberConfig
from monitor.config.suggest import suggestion
from monitor.core.clock import Clock, utcnow
from monitor.core.errors import NotifyError
from monitor.core.redact import printable, shown
from monitor.core.units import counted
from monitor.delivery.sample import sample_digest
from monitor.digest.render import load_templates
from monitor.digest.trial import TrialRenderer
from monitor.net.http import HttpClient
from monitor.notifiers import NotifierContext, build_notifier
from monitor.notifiers.apprise import scheme_of

REFUSED_HINT = " (not a public address: list its network in network.allow)"


def channel(config: Config, sub: SubscriberConfig) -> str:
    """Where the test goes, safe to print: never a URL's path or query (they often hold a
    token), nor a secret."""
    if sub.email is not None:
        smtp = f" via {config.smtp.host}:{config.smtp.port}" if config.smtp is not None else ""
        return f"email to {sub.email}{smtp}"
    if sub.webhook is not None:
        signed = ", signed" if sub.secret is not None and sub.format == "generic" else ""
        return f"webhook {URL(sub.webhook).host} ({sub.format}{signed})"
    if sub.apprise is not None:
        return f"apprise ({scheme_of(sub.apprise.get_secret_value())})"
    return "console"


async def notify_test_command(config: Config, name: str, clock: Clock = utcnow) -> int:
    """0 when the receiver accepted the test digest, 1 when it refused it or could not be
    reached, 2 for a subscriber the configuration does not have."""
    subscriber = next((s for s in config.subscribers if s.name == name), None)
    if subscriber is None:
        known = [s.name for s in config.subscribers]
        print(
            printable(f"monitor: unknown subscriber {name!r}{suggestion(name, known)}"),
            file=sys.stderr,
        )
        return 2
    digest = sample_digest(config, subscriber, clock())
    print(
        f"test digest for {name}: {counted(len(digest.items), 'sample article')}, "
        f"by {channel(config, subscriber)}",
        flush=True,  # before what a console subscriber prints
    )
    renderer = TrialRenderer.for_config(config, load_templates(config.templates))
    async with HttpClient(config.network, clock=clock) as http:  # guarded: network.allow
        context = NotifierContext(
            renderer=renderer,
            smtp=config.smtp,
            session=http.session,
            stdout=sys.stdout,
            timeout=config.network.timeout.total_seconds(),
            clock=clock,
            http=http,  # through network.proxy, as the daemon's
        )  # no unsubscribe link: its token's key is in the store, which a test does not open
        notifier = build_notifier(subscriber, context)
        try:
            answer = await notifier.send(digest)
        except NotifyError as exc:
            reason = str(exc)
            if reason.endswith("address refused"):
                reason += REFUSED_HINT
            print(f"monitor: test digest not delivered: {shown(reason)}", file=sys.stderr)
            return 1
    print(shown(f"accepted: {answer or 'yes'}"))
    return 0
