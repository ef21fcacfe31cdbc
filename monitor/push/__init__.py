"""WebSub push (W3C WebSub, formerly PubSubHubbub): feeds that name a hub are subscribed to, so
that the hub delivers their new entries as they are published instead of waiting for a poll.

- :mod:`monitor.push.timing`: when to renew a lease, when to ask a hub again (pure);
- :mod:`monitor.push.signature`: the ``X-Hub-Signature`` check of a delivery;
- :mod:`monitor.push.hub`: the requests to a hub (subscribe, unsubscribe);
- :mod:`monitor.push.callback`: the routes hubs call on the daemon's HTTP server;
- :mod:`monitor.push.subscriptions`: what joins them to the store and the pipeline.

Polling goes on, slower, as the check that the hub misses nothing: a poll that finds an item
the hub did not deliver puts the source back on its own interval until the hub delivers again.
"""
