"""What every layer shares (DESIGN §2): the values passed between the pipeline's steps
(``models``), the one exception tree (``errors``), the clock, structured logs and what they
redact, the units of the configuration, and the process's memory housekeeping. It imports
nothing else of monitor."""
