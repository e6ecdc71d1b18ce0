"""``pyagent-trace report merge shard-*.json -o run.json``: one report for a sharded CI run.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer

from pyagent_trace._jsonl_io import atomic_write_bytes
from pyagent_trace._usd import usd
from pyagent_trace.cli._common import fail, keep_mode
from pyagent_trace.cli._run_markdown import render_markdown
from pyagent_trace.exceptions import BadReportError
from pyagent_trace.run_report import calls_of, merge_run_reports, read_run_report

__all__ = ["report_app"]

report_app = typer.Typer(
    help="Run reports (the JSON of pytest --cost-report): merge the shards of a CI run, as JSON or Markdown.",
    no_args_is_help=True,
)


class ReportFormat(enum.StrEnum):
    JSON = "json"
    MARKDOWN = "markdown"


@report_app.command("merge")
def merge(
    files: Annotated[
        list[Path], typer.Argument(help="The --cost-report files of every shard (one file re-renders it).")
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write; standard output without it.", show_default=False),
    ] = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="json: a report like one run's; markdown: tables for CI.")
    ] = ReportFormat.JSON,
    top: Annotated[int, typer.Option(help="Markdown: how many of the costliest tests to list.", min=0)] = 10,
) -> None:
    """Merge run reports into one whose totals are those of one unsharded run.

    A test in two reports counts once when its numbers are the same (a re-run shard) and
    is an error naming both files when they differ. Append the Markdown to a GitHub job
    summary with: pyagent-trace report merge shard-*.json -f markdown >> "$GITHUB_STEP_SUMMARY"
    """
    if output is not None and any(output.resolve() == f.resolve() for f in files):
        fail(f"Output {str(output)!r} is one of the input reports; choose another path with -o run.json.")
    try:
        merged = merge_run_reports([(path, read_run_report(path)) for path in files])
    except BadReportError as err:
        fail(str(err))
    markdown = fmt is ReportFormat.MARKDOWN
    text = render_markdown(merged, top=top) if markdown else json.dumps(merged, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        with keep_mode(output):
            atomic_write_bytes(output, text.encode())
    except OSError as err:
        fail(f"cannot write {str(output)!r}: {err.strerror or err}. Choose another path with -o.")
    totals = merged["totals"]
    typer.echo(
        f"Merged {len(files)} report{'s' * (len(files) != 1)} into {output}: {len(merged['tests'])} tests, "
        f"{sum(calls_of(t) for t in merged['tests'])} calls, {usd(totals['cost_usd'])}."
    )
