"""``python -m pyagent_trace.cli``: the same as the ``pyagent-trace`` script.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from pyagent_trace.cli import main

main()
