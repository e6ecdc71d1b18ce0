"""The ``pyagent-trace`` command line (needs the ``cli`` extra: typer and rich).

Importing this package works without them, so ``main`` can say what to install.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyagent_trace.cli._app import app

__all__ = ["app", "main"]

_NEEDS = frozenset({"typer", "rich", "click"})


def main() -> None:
    """Console-script entry point: ``pyagent-trace = "pyagent_trace.cli:main"``."""
    try:
        from pyagent_trace.cli._app import app
    except ImportError as err:
        if (err.name or "").partition(".")[0] not in _NEEDS:
            raise
        sys.stderr.write(
            f"error: the pyagent-trace command line needs {err.name}, which is not installed. "
            "Install it with: pip install 'pyagent-trace[cli]'\n"
        )
        raise SystemExit(2) from None
    app()


def __getattr__(name: str) -> Any:
    if name == "app":
        from pyagent_trace.cli._app import app

        return app
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
