"""``python -m pyagent_trace.cli``: the same as the ``pyagent-trace`` script."""

from pyagent_trace.cli import main

main()
