"""A run report as Markdown tables, for a CI job summary (GitHub's ``$GITHUB_STEP_SUMMARY``).

Recorded names (node ids, agents, models) are escaped: a ``|`` in a parametrize id would
split a table row, and a ``<`` would reach the page as HTML.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pyagent_trace._usd import usd
from pyagent_trace.run_report import calls_of

__all__ = ["render_markdown"]

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md(text: object) -> str:
    """``text`` as literal Markdown table-cell text: one line, no markup, no HTML."""
    plain = " ".join(str(text).split())
    plain = "".join(_ENTITIES.get(ch, ch) for ch in plain)
    return _SPECIAL.sub(r"\\\1", plain) or "-"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---" if i == 0 else "---:" for i in range(len(header))]
    return [f"| {' | '.join(header)} |", f"| {' | '.join(align)} |", *(f"| {' | '.join(r)} |" for r in rows)]


def _cost(group: Mapping[str, Any]) -> str:
    unpriced = int(group.get("unpriced_calls", 0))
    if unpriced and unpriced == group.get("calls"):
        return "unpriced"
    return usd(float(group.get("cost_usd", 0.0))) + (f" (+{unpriced} unpriced)" if unpriced else "")


def _groups(title: str, label: str, groups: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not groups:
        return []
    rows = [
        [md(name), f"{g['calls']:,}", f"{g['tokens']:,}", _cost(g) + (" ⚠️" if g.get("unpriced_calls") else "")]
        for name, g in groups.items()
    ]
    return ["", f"### {title}", "", *_table([label, "Calls", "Tokens", "Cost"], rows)]


def _problems(report: Mapping[str, Any]) -> list[str]:
    totals, lines = report["totals"], []
    unpriced = [name for name, g in report.get("by_model", {}).items() if g.get("unpriced_calls")]
    if unpriced:
        lines.append(
            f"- ⚠️ **{totals['unpriced_calls']} calls used models with no price** ({', '.join(map(md, unpriced))}): "
            "their cost is unknown, not $0. Add prices by overriding the `pyagent_trace_prices` fixture."
        )
    missing = totals["cassettes_missing"]
    if missing:
        lines.append(f"- ❌ **{len(missing)} cassettes missing**: record them with `pytest --record-mode=once`.")
    drifted = [t["nodeid"] for t in report["tests"] if t.get("drift")]
    if drifted:
        lines.append(f"- 🔀 **{len(drifted)} tests drifted** from their cassettes: {', '.join(map(md, drifted[:10]))}")
    stale = report.get("stale_cassettes", [])
    if stale:
        lines.append(f"- 🧹 {len(stale)} cassettes no test uses: {', '.join(map(md, stale[:10]))}")
    return ["", "### Needs attention", "", *lines] if lines else []


def render_markdown(report: Mapping[str, Any], top: int = 10) -> str:
    """Totals, cost by agent and by model, the costliest tests, and what needs attention."""
    totals, tests = report["totals"], report["tests"]
    calls = sum(calls_of(t) for t in tests)
    lines = [
        "## pyagent-trace run report",
        "",
        *_table(
            ["Mode", "Tests", "Calls", "Replayed", "Recorded", "Tokens", "Cost", "Cassettes used"],
            [
                [
                    md(report["mode"]),
                    f"{len(tests):,}",
                    f"{calls:,}",
                    f"{totals['calls_replayed']:,}",
                    f"{totals['calls_recorded']:,}",
                    f"{totals['tokens']:,}",
                    usd(totals["cost_usd"]) + (" ⚠️" if totals["unpriced_calls"] else ""),
                    f"{totals['cassettes_used']:,}",
                ]
            ],
        ),
        *_groups("Cost by agent", "Agent", report.get("by_agent", {})),
        *_groups("Cost by model", "Model", report.get("by_model", {})),
    ]
    costly = sorted((t for t in tests if t.get("cost_usd")), key=lambda t: (-t["cost_usd"], t["nodeid"]))[:top]
    if costly:
        rows = [[md(t["nodeid"]), f"{calls_of(t):,}", f"{t.get('tokens', 0):,}", usd(t["cost_usd"])] for t in costly]
        lines += ["", f"### Most expensive tests (top {len(costly)} of {len(tests)})", ""]
        lines += _table(["Test", "Calls", "Tokens", "Cost"], rows)
    lines += _problems(report)
    return "\n".join(lines) + "\n"
