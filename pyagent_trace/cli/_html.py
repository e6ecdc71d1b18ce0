"""``pyagent-trace html FILE -o report.html``: the run as one self-contained page.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pyagent_trace._jsonl_io import atomic_write_bytes
from pyagent_trace.cli._common import fail, keep_mode, load_or_exit
from pyagent_trace.cli._format import sum_cost, usd
from pyagent_trace.cli._report import render_html
from pyagent_trace.trace_service import call_spans

__all__ = ["html"]


def html(
    file: Annotated[Path, typer.Argument(help="A recording, cassette or JsonlExporter file.", show_default=False)],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the page [default: FILE with .html].", show_default=False),
    ] = None,
) -> None:
    """Write the run as one self-contained HTML page.

    A timeline, cost by agent and model, the tree, and every call's messages and response
    (click a bar or a row). No server, no network: open the file from disk.
    """
    spans = load_or_exit(file)
    target = output if output is not None else file.with_suffix(".html")
    if target.resolve() == file.resolve():
        fail(f"Output {str(target)!r} is the input file; choose another path with -o report.html.")
    page = render_html(spans, file.stem, str(file))
    try:
        with keep_mode(target):
            atomic_write_bytes(target, page.encode())
    except OSError as err:
        fail(f"cannot write {str(target)!r}: {err.strerror or err}. Choose another path with -o.")
    calls = call_spans(spans)
    typer.echo(f"Wrote {target} ({len(calls)} call{'s' * (len(calls) != 1)}, {usd(sum_cost(calls))}).")
