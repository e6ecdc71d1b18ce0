"""``pyagent-trace view FILE``: the run as the docs' tree, one row per agent call.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pyagent_trace.cli._common import load_or_exit
from pyagent_trace.cli._display import printable
from pyagent_trace.cli._tree import tree_lines

__all__ = ["view"]


def view(
    file: Annotated[Path, typer.Argument(help="A recording, cassette or JsonlExporter file.", show_default=False)],
) -> None:
    """Show a run as a tree: each agent call with its time, model, tokens and cost."""
    spans = load_or_exit(file)
    for line in tree_lines(spans, file.stem):
        typer.echo(printable(line))
