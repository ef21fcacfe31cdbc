"""One configured source read as a poll reads it, with nothing recorded (``monitor test-rule
NAME``): fetched at its URL, parsed by its kind (a feed, an html page by its selectors, a
sitemap and the sitemaps an index names, a home page and the feed it announces, a Google News
search) in a parse worker with the configuration's limits, its items' links resolved to the
publishers' where the source redirects, and each article's own page read where it says
``fetch_article``. Every item read is returned, as on a source's first poll without its
backfill horizon: nothing is known to have been seen, and none is left out for its age."""

from __future__ import annotations

from datetime import datetime

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.models import Item
from monitor.net.http import HttpClient
from monitor.poll.articles import ArticleReader
from monitor.poll.budget import UNLIMITED
from monitor.poll.following import Documents
from monitor.poll.redirects import LinkResolver
from monitor.sources.registry import Parser, kind_of


async def peek(
    config: Config, source: SourceConfig, http: HttpClient, parser: Parser, now: datetime
) -> list[Item]:
    """The items ``source`` holds now; SourceError when it cannot be read."""
    kind = kind_of(source)  # never read before: a sitemap's every URL counts
    documents = Documents(http, parser)
    options = source.request_options  # its headers, credentials and proxy, as a poll's
    fetched = await http.get(source.url, options)
    read = await parser.parse(kind, fetched, source.name, now)
    if read.feeds:  # a home page (kind auto): the feed it announces
        fetched, read = await documents.discovered(
            source.name, fetched.url, read.feeds, now, UNLIMITED, options
        )
    read = await documents.followed(
        kind, read, source.name, now, UNLIMITED, config.limits.max_items, options
    )
    items = list(read.items)
    if source.redirect_host is not None and items:
        resolver = LinkResolver(http)
        items = await resolver.resolve(items, source.redirect_host, UNLIMITED, options)
    if source.fetch_article and items:
        items = await ArticleReader(http, parser).read(items, now, UNLIMITED, options)
    return items
