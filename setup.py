"""The keyword matcher (``monitor/rules``, ``monitor/terms``) compiled to C with mypyc, outside
the source tree.

``make install`` runs ``python setup.py build_ext --build-lib build/native`` once the package is
installed (the Makefile's ``$(NATIVE)`` step): each module of the two packages gets a compiled
twin in ``build/native/monitor/``, which the package imports instead of the ``.py`` while it
matches the sources (about 1.4 times the matching throughput: bench/README.md). Every
other command (``pip install``, the wheel of deploy/Dockerfile) builds the pure-Python package,
which behaves the same, only slower. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

from setuptools import setup

if "build_ext" in sys.argv:
    from mypyc.build import mypycify

    with warnings.catch_warnings():  # (the build being replaced is stale: that is why)
        warnings.simplefilter("ignore")
        from monitor.core.native import BUILT_FROM, compiled_sources, digests

    NATIVE = [str(path.relative_to(Path.cwd())) for path in compiled_sources()]
    BUILT_FROM.unlink(missing_ok=True)  # no record while the compiled modules change
    # one shared library inside the package (not at the top level of site-packages)
    setup(ext_modules=mypycify(NATIVE, group_name="monitor.rules._native", opt_level="3"))
    # what the compiled modules were built from: monitor.rules ignores them once that changes
    BUILT_FROM.parent.mkdir(parents=True, exist_ok=True)
    BUILT_FROM.write_text(json.dumps(digests(), indent=1, sort_keys=True) + "\n")
else:
    setup()
