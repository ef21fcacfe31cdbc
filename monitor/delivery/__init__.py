"""From matches to people (DESIGN §1): which subscriber gets which item (``routing``), and the
sending of digests with retries and dead letters (``dispatch``). What is owed, grouped into
digests, and each subscriber's history are kept by the store (monitor.store.outbox and
monitor.store.history); schedules are part of the configuration (monitor.config.schedule)."""
