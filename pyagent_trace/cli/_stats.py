"""``pyagent-trace stats FILE…``: cost, tokens, calls and time by pattern, agent and model.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pyagent_trace._usd import usd
from pyagent_trace.cli._common import load_or_exit
from pyagent_trace.cli._display import printable
from pyagent_trace.cli._format import seconds
from pyagent_trace.trace_service import GroupStats, TraceService, TraceSummary

__all__ = ["stats"]


def _table(title: str, column: str, groups: dict[str, GroupStats]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column(column, overflow="fold")
    for name in ("Calls", "In tok", "Out tok", "Cost", "Time", "Mean"):
        table.add_column(name, justify="right", no_wrap=True)
    for name, g in groups.items():
        cost = usd(g.cost_usd) + (f" +{g.unpriced_calls} unpriced" if g.unpriced_calls else "")
        table.add_row(
            Text(name or "-"),  # a Text: recorded names are never read as rich markup
            f"{g.calls:,}",
            f"{g.input_tokens:,}",
            f"{g.output_tokens:,}",
            cost,
            seconds(g.duration_ms),
            seconds(g.mean_ms),
        )
    return table


def _headline(files: list[Path], summary: TraceSummary) -> str:
    t = summary.total
    where = files[0].name if len(files) == 1 else f"{len(files)} files"
    line = (
        f"{where}: {t.calls:,} call{'s' * (t.calls != 1)}, {t.tokens:,} tokens "
        f"({t.input_tokens:,} in + {t.output_tokens:,} out), {usd(t.cost_usd)}, {seconds(t.duration_ms)} in calls"
    )
    if t.unpriced_calls:
        line += f"; {t.unpriced_calls} unpriced call(s): their cost is unknown, not $0"
    return line


def stats(
    files: Annotated[list[Path], typer.Argument(help="One or more trace files, added together.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON, for scripts.")] = False,
) -> None:
    """Cost and tokens by pattern, agent and model, with call counts and durations."""
    service = TraceService()
    for file in files:
        service.add(load_or_exit(file))
    summary = service.summary()
    if as_json:
        data = {"files": [str(f) for f in files], **summary.to_dict()}
        typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or captured: print tables at their natural width
        console.width = 200
    console.print(Text(printable(_headline(files, summary))), soft_wrap=True)
    for title, column, groups in (
        ("By pattern", "Pattern", summary.by_pattern),
        ("By agent", "Agent", summary.by_agent),
        ("By model", "Model", summary.by_model),
    ):
        console.print(_table(title, column, groups))
