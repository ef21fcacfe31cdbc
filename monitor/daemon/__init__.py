"""The composition root (DESIGN §2): the App builds the store, the HTTP client, the parse
workers and the runtime from the configuration and polls and sends (``app``, once or for
good); the scheduler's jobs (``jobs``); the HTTP side and the hubs' push (``serving``); the
daemon run for good, its signals and its clean stop (``forever``); a reload's large file
loaded in a child process while the polls go on (``loading``, ``gil``)."""
