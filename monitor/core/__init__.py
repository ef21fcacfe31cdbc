"""What every layer shares (DESIGN §2): the values passed between the pipeline's steps
(``models``), the one exception tree (``errors``), the clock, structured logs and what they
redact, the units of the configuration, backoff arithmetic, the daemon's Prometheus counters
(``metrics``), the process's memory housekeeping, and whether the compiled matcher may be used
(``native``). It imports nothing else of monitor."""
