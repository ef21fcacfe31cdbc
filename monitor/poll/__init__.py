"""ClaimLoop (DESIGN §1): the claim loop that takes this replica's due sources (``claims``), one
poll as a recipe — fetch, parse, normalise, dedupe, match, record (``pipeline``) — and its
steps: the documents a poll follows (``following``), articles' own pages (``articles``),
redirect links (``redirects``), the time a poll may take (``budget``), when a source is due
again (``backoff``), finding a home page's feed (``resolve``), and source health (``health``)."""
