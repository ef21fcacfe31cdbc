"""The daemon's HTTP server (DESIGN §2): health, metrics, one-click unsubscribe and WebSub
callbacks (``server``), and the signed unsubscribe tokens (``unsubscribe``)."""
