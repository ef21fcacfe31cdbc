"""monitor: watches news sources and alerts people when something they care about is published."""

__version__ = "0.1.0"
