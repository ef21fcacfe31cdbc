"""The configuration (DESIGN §3.2): the whole file's model (``model``) over a shared base
(``base``), one module per part — sources and their kinds (``sources``), the rule language
(``rules``), subscribers (``subscribers``), the service sections (``sections``), digest
schedules (``schedule``), value types (``types``) — its reading with every value's position
(``located``) and loading with every problem located as ``PATH:LINE:COL`` (``load``), and
subscribers and sources kept in files of their own (``entry_files``: ``subscribers_file``,
``sources_file`` with ``opml`` and names for its feeds, ``feed_names``; the CSV form both
share, ``entries``)."""
