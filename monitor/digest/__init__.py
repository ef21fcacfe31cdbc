"""A digest as a reader gets it (DESIGN §3.6): grouping by rule or by story (``stories``, with
its vocabulary in ``story_words``), snippets around the matched terms, the Jinja2 templates and
their sandbox (``templating``, ``templates/``), the words of each language (``i18n``), and the
subject, text and HTML rendered from them (``render``)."""
