"""``pyagent-trace html FILE -o report.html``: a run as self-contained pages.

FILE is one recording or cassette (one page), a ``--cost-report`` JSON or a folder of
cassettes (a page for the whole run, linking to a page per cassette written alongside).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from pyagent_trace._jsonl_io import atomic_write_bytes
from pyagent_trace._usd import usd
from pyagent_trace.cli._common import fail, keep_mode, load_or_exit, read_error
from pyagent_trace.cli._format import sum_cost
from pyagent_trace.cli._report import render_html
from pyagent_trace.cli._run_html import cassette_tests, write_run_pages
from pyagent_trace.exceptions import BadRecordingError, BadReportError
from pyagent_trace.run_report import calls_of, read_run_report
from pyagent_trace.trace_service import TraceSpan, call_spans, load_spans

__all__ = ["html"]


def _write(target: Path, page: str) -> None:
    try:
        with keep_mode(target):
            atomic_write_bytes(target, page.encode())
    except OSError as err:
        fail(f"cannot write {str(target)!r}: {err.strerror or err}. Choose another path with -o.")


def _is_run_report(file: Path) -> bool:
    """A whole-file JSON object with ``tests`` (cassettes are ``.jsonl``: never read twice)."""
    if file.suffix == ".jsonl" or not file.is_file():
        return False
    try:
        data = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and "tests" in data


def _load(path: Path) -> list[TraceSpan]:
    try:
        return load_spans(path)
    except (OSError, BadRecordingError, UnicodeDecodeError) as err:
        fail(read_error(path, err))


def _run(report: dict[str, Any], target: Path, root: Path, source: str, known: dict[str, list[TraceSpan]]) -> None:
    def load(cassette: str) -> Sequence[TraceSpan] | None:
        if cassette in known:
            return known[cassette]
        path = root / cassette
        if not path.is_file():
            return None
        try:
            return load_spans(path)
        except (OSError, BadRecordingError, UnicodeDecodeError) as err:  # the report is the data; a page is extra
            typer.echo(
                f"warning: no page for cassette {cassette!r}: {' '.join(read_error(path, err).split())}", err=True
            )
            return None

    pages = write_run_pages(report, target, load, _write, source)
    tests = report["tests"]
    typer.echo(
        f"Wrote {target} ({len(tests)} tests, {sum(calls_of(t) for t in tests)} calls, "
        f"{usd(report['totals']['cost_usd'])}) and {len(pages.cassette_pages)} cassette pages "
        f"in {target.with_name(target.stem + '-cassettes')}."
    )


def html(
    file: Annotated[
        Path,
        typer.Argument(
            help="A recording or cassette; a --cost-report JSON or a folder of cassettes for the whole run.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the page; FILE with .html without it.", show_default=False),
    ] = None,
    root: Annotated[
        Path,
        typer.Option(
            help="Where a report's cassette paths start: the folder pytest ran in (the current one without it).",
            show_default=False,
        ),
    ] = Path(),
) -> None:
    """Write a run as self-contained HTML: no server, no network, open it from disk.

    One cassette: a timeline, cost by agent and model, the tree, and every call's messages
    and response. A --cost-report JSON or a folder of cassettes: every test's cost, calls
    and drift on one page, each linked to its cassette's page (written into a folder
    named after the page, next to it).
    """
    default = file.resolve() if file.is_dir() else file  # "." has no name to put .html on
    target = output if output is not None else default.with_suffix(".html")
    if target.resolve() == file.resolve():
        fail(f"Output {str(target)!r} is the input file; choose another path with -o report.html.")
    if file.is_dir():
        found = sorted(file.rglob("*.jsonl"))
        if not found:
            fail(f"{str(file)!r} is a directory with no cassettes (*.jsonl) in it. Give a cassette folder or a file.")
        known = {path.relative_to(file).as_posix(): _load(path) for path in found}
        _run(cassette_tests(known), target, file, str(file), known)
        return
    if _is_run_report(file):
        try:
            report = read_run_report(file)
        except BadReportError as err:
            fail(str(err))
        _run(report, target, root, str(file), {})
        return
    spans = load_or_exit(file)
    _write(target, render_html(spans, file.stem, str(file)))
    calls = call_spans(spans)
    typer.echo(f"Wrote {target} ({len(calls)} call{'s' * (len(calls) != 1)}, {usd(sum_cost(calls))}).")
