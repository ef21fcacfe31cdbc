"""The configuration (DESIGN §3.2): pydantic models of the YAML file (``model``, with the
sources' kinds in ``sources``, the rule language in ``rules`` and shared value types in
``types``), its loading with every problem located as ``PATH:LINE:COL`` and ``${ENV}`` secrets
(``load``), and subscribers kept in a file of their own (``subscribers_file``)."""
