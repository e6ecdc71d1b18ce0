"""The docs' "Trace Output Example" tree, as lines (``pyagent-trace view`` and the HTML report).

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyagent_trace._usd import usd
from pyagent_trace.cli._format import (
    early_stop,
    run_duration_ms,
    seconds,
    short_model,
    sum_cost,
    title_of,
    tokens,
)
from pyagent_trace.trace_service import TraceSpan, call_spans

__all__ = ["model_cells", "tree_lines"]


def model_cells(calls: Sequence[TraceSpan]) -> list[str]:
    """The model column: an agent's later calls on the same model read ``(round 2)``."""
    seen: dict[str, int] = {}
    first_model: dict[str, str] = {}
    cells: list[str] = []
    for call in calls:
        count = seen[call.agent_name] = seen.get(call.agent_name, 0) + 1
        model = short_model(call.model) or "-"
        first = first_model.setdefault(call.agent_name, call.model)
        if count == 1:
            cells.append(model)
        elif call.model == first:
            cells.append(f"(round {count})")
        else:
            cells.append(f"{model} (round {count})")
    return cells


def _cost_cell(call: TraceSpan) -> str:
    return usd(call.cost_usd) if call.priced else "unpriced"


def _total_line(calls: Sequence[TraceSpan], spans: Sequence[TraceSpan]) -> str:
    unpriced = sum(not c.priced for c in calls)
    extra = f" + {unpriced} unpriced call{'s' * (unpriced != 1)}" if unpriced else ""
    stop = "true" if early_stop(spans) else "false"
    return f"Total: {usd(sum_cost(calls))}{extra}, early_stop: {stop}"


def tree_lines(spans: Sequence[TraceSpan], fallback_name: str) -> list[str]:
    """Header, one aligned row per agent call, a rule, the total.

    ``fallback_name`` (the file's stem) names the trace when no ``service_name`` was recorded.
    """
    calls = call_spans(spans)
    total = sum_cost(calls)
    header = f"Trace: {title_of(spans, fallback_name)} ({seconds(run_duration_ms(spans, calls))} total, {usd(total)})"
    rows = [
        [f"pyagent.agent.{c.agent_name or '-'}", seconds(c.duration_ms), model, tokens(c), _cost_cell(c)]
        for c, model in zip(calls, model_cells(calls), strict=True)
    ]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(5)]
    lines = [header]
    for index, (name, duration, model, toks, cost) in enumerate(rows):
        branch = "└──" if index == len(rows) - 1 else "├──"
        cells = (
            name.ljust(widths[0]),
            duration.rjust(widths[1]),
            model.ljust(widths[2]),
            toks.rjust(widths[3]),
            cost.rjust(widths[4]),
        )
        lines.append(f"{branch} {' '.join(cells)}")
    if not rows:
        lines.append("└── (no agent calls recorded)")
    lines.append("─" * max(len(line) for line in lines[1:]))
    lines.append(_total_line(calls, spans))
    return lines
