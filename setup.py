"""The keyword matcher (``monitor/rules``) compiled to C with mypyc, in place.

``make install`` runs ``python setup.py build_ext --inplace`` once the package is installed
(the Makefile's ``$(NATIVE)`` step): each module of ``monitor/rules`` gets a compiled twin
beside it, which Python imports instead of the ``.py`` (about 1.4 times the matching
throughput: bench/README.md). Every other command (``pip install``, the wheel of
deploy/Dockerfile) builds the pure-Python package, which behaves the same, only slower.
Everything else is in pyproject.toml.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup

# not __init__: it is imported to find the shared library, which lives in the package
NATIVE = sorted(str(p) for p in Path("monitor/rules").glob("*.py") if p.name != "__init__.py")

if "build_ext" in sys.argv:
    from mypyc.build import mypycify

    # one shared library inside the package (not at the top level of site-packages)
    setup(ext_modules=mypycify(NATIVE, group_name="monitor.rules._native", opt_level="3"))
else:
    setup()
