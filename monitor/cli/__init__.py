"""The command line (DESIGN §3.1): argument parsing and printing (``main``), the commands that
need the event loop (``commands``) and ``test-rule`` with its backtest (``testrule``)."""
