"""Polling (DESIGN §1): the claim loop that takes this replica's due sources (``claims``), one
poll as a recipe — fetch, parse, normalise, dedupe, match, record (``pipeline``) — and its
steps: the documents a poll follows (``following``), articles' own pages (``articles``),
redirect links (``redirects``), the time a poll may take (``budget``), what a hub's push asks
of polls (``pushes``), finding a home page's feed (``resolve``), and source health
(``health``). When a source is due again is core arithmetic (monitor.core.backoff)."""
