"""``pyagent-trace diff A B``: what a re-recording changed; exit 1 when anything did.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from pyagent_trace._call_diff import compare
from pyagent_trace.cli._common import load_or_exit
from pyagent_trace.cli._display import printable

__all__ = ["diff"]

_STYLES = (("    +++", "bold"), ("    ---", "bold"), ("    @@", "cyan"), ("    +", "green"), ("    -", "red"))


def _style(line: str) -> str:
    for prefix, style in _STYLES:
        if line.startswith(prefix):
            return style
    if line.startswith(("agent ", "--- ", "+++ ")):
        return "bold"
    return ""


def diff(
    a: Annotated[Path, typer.Argument(help="The old recording or cassette.", show_default=False)],
    b: Annotated[Path, typer.Argument(help="The new one.", show_default=False)],
) -> None:
    """Compare two runs: calls added, removed and changed per agent.

    Shows prompt and response diffs and token and cost deltas; ignores times. Exit code 0
    when the runs match, 1 when they differ, 2 on errors.
    """
    report = compare(load_or_exit(a), load_or_exit(b), str(a), str(b))
    console = Console(highlight=False)
    for line in report.lines():
        console.print(Text(printable(line), style=_style(line)), soft_wrap=True)
    if not report.same:
        raise typer.Exit(1)
