"""``monitor demo``: the daemon on a made-up news site served on loopback (its headlines and
configuration are package data here), so that it shows alerts with no network."""
