"""Source kinds: the registry (``monitor.sources.registry``), each kind's parser, and the parse
workers. Kept empty so that a parse worker importing a parser does not import the daemon's
HTTP client and configuration with it (tens of megabytes a worker)."""
