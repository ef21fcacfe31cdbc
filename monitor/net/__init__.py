"""The network below every fetch and delivery (DESIGN §2): the one shared aiohttp client
(limits, a total deadline, a decoded-size cap, conditional GET) and the address guard that
keeps it off private addresses."""
