"""The words of the rule language (DESIGN §3.3), below the configuration that validates terms
and the matcher that compiles them: text folding and tokens (``text``), spellings, plurals and
stems (``words``), regular-expression terms (``regex``) and the term syntax (``syntax``).

Compiled with the matcher (:mod:`monitor.core.native`): the build comes first on this
package's path only while it matches the sources.
"""

from monitor.core.native import compiled_path

__path__[:0] = compiled_path("terms")
