"""A sample digest for one subscriber (``monitor notify --test``): a few articles written from
the terms of the subscriber's own rules, in its language, each matched by the real matcher (so
the digest shows the rules and highlighted terms a real one would). A rule none of whose terms
can be written out as words (a regular expression, a language condition a short headline does
not meet…) gets a plain sample headline, listed under it without terms."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from monitor.config.model import Config
from monitor.config.rules import CaseTerm, Group, Near, RuleConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.models import Digest, DigestItem, Item, Match
from monitor.digest.i18n import TrialStrings, trial_strings
from monitor.rules.matcher import Matcher
from monitor.terms.regex import is_regex

ITEMS = 3  # sample articles at most
LINK = "https://example.com/monitor-test/{n}"  # a reserved domain (RFC 2606): never an outlet's


def rules_of(config: Config, subscriber: SubscriberConfig) -> list[RuleConfig]:
    """The rules whose matches the subscriber receives, in configuration order."""
    wanted = None if subscriber.rules is None else set(subscriber.rules)
    return [rule for rule in config.rules if wanted is None or rule.name in wanted]


def _words(condition: object) -> Iterator[str]:
    """The terms of a condition that can be written in a headline, wildcards cut off."""
    if isinstance(condition, CaseTerm):
        condition = condition.term
    if isinstance(condition, str):
        if not is_regex(condition):
            yield " ".join(word.rstrip("*") for word in condition.split())
    elif isinstance(condition, Near):  # side by side: within any distance
        yield " ".join(term for part in condition.near for term in _words(part))
    elif isinstance(condition, Group):
        yield from (term for part in condition.any[:1] for term in _words(part))
        yield from (term for part in condition.all for term in _words(part))


def candidates(rule: RuleConfig) -> Iterator[list[str]]:
    """Sets of terms that may make ``rule`` fire: each ``any`` term with every ``all`` term."""
    needed = [term for condition in rule.all for term in _words(condition)]
    anys = [term for condition in rule.any for term in _words(condition)]
    for term in anys or [""]:
        chosen = [t for t in [term, *needed] if t]
        if chosen:
            yield list(dict.fromkeys(chosen))


def source_for(config: Config, rule: RuleConfig) -> str:
    """A configured source in the rule's scope (a sample says where such an article would come
    from), else the first source, else a placeholder."""
    names = [source.name for source in config.sources]
    if rule.sources:
        return rule.sources[0]
    if rule.tags:
        tagged = [s.name for s in config.sources if set(s.tags) & set(rule.tags)]
        names = tagged or names
    return names[0] if names else "example"


def _item(words: TrialStrings, terms: Sequence[str], n: int, now: datetime) -> Item:
    joined = words.joiner.join(terms)
    return Item(
        source="",
        key=f"test_{n}",
        link=LINK.format(n=n),
        title=words.title.format(term=terms[0]),
        summary=words.summary.format(term=joined),
        content="",
        published=now - timedelta(minutes=7 * n),
    )


def _digest_item(item: Item, source: str, mine: Sequence[Match]) -> DigestItem:
    return DigestItem(
        id=item.key,
        title=item.title,
        link=item.link,
        source=source,
        published=item.published,
        summary=item.summary,
        rules=tuple(m.rule for m in mine),
        terms={m.rule: m.terms for m in mine if m.terms},
        hits=tuple((m.rule, hit) for m in mine for hit in m.hits),
    )


def _matching(
    matcher: Matcher, words: TrialStrings, rule: RuleConfig, n: int, now: datetime
) -> tuple[Item, list[Match]] | None:
    """The first sample article written from the rule's terms that the rule fires on."""
    for terms in candidates(rule):
        item = _item(words, terms, n, now)
        found = matcher.match(item)
        if any(match.rule == rule.name for match in found):
            return item, found
    return None


def _plain(words: TrialStrings, n: int, now: datetime) -> Item:
    return Item(
        source="",
        key=f"test_{n}",
        link=LINK.format(n=n),
        title=words.plain_title,
        summary=words.plain_summary,
        content="",
        published=now - timedelta(minutes=7 * n),
    )


def sample_digest(config: Config, subscriber: SubscriberConfig, now: datetime) -> Digest:
    """A digest of up to ITEMS sample articles, one per rule of the subscriber (the first
    ones), with a fresh id (a receiver that deduplicates by id takes each test as new)."""
    words = trial_strings(subscriber.language or config.language)
    rules = rules_of(config, subscriber)
    wanted = {rule.name for rule in rules}
    # every rule compiled (one may refer to another), their scopes left out: a sample's source
    # is only a name
    matcher = Matcher(config.rules, config.source_tags(), scoped=False)
    items: list[DigestItem] = []
    for n, rule in enumerate(rules[:ITEMS], 1):
        source = source_for(config, rule)
        matched = _matching(matcher, words, rule, n, now)
        if matched is None:  # no term can be written out: a plain headline, under the rule
            items.append(_digest_item(_plain(words, n, now), source, [Match(rule.name, ())]))
            continue
        item, found = matched
        # this rule first, then the subscriber's other rules the article happens to match
        mine = sorted((m for m in found if m.rule in wanted), key=lambda m: m.rule != rule.name)
        items.append(_digest_item(item, source, mine))
    if not items:  # the configuration has no rule at all
        names = [source.name for source in config.sources]
        items.append(_digest_item(_plain(words, 1, now), names[0] if names else "example", []))
    return Digest(f"dg_test_{secrets.token_hex(8)}", subscriber.name, now, tuple(items))
