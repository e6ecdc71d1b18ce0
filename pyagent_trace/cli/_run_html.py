"""A whole run on one HTML page: every test's cost, calls and drift, each linking to its
cassette's call view (the single-cassette page of ``_report``, written alongside).

The pages use the single page's inline assets and escaping, link to each other with
relative paths and load nothing, so the folder opens from disk or as a CI artifact.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pyagent_trace import __version__
from pyagent_trace._trace_summary import GroupStats, summarize
from pyagent_trace._usd import usd
from pyagent_trace.cli._report import _PALETTE, _bars, _e, _json, cards_html, page_html, render_html
from pyagent_trace.run_report import calls_of, run_report_json
from pyagent_trace.scrub import scrub_value
from pyagent_trace.trace_service import TraceSpan, call_spans

__all__ = ["RunPages", "cassette_tests", "render_run_html", "write_run_pages"]


_NUMERIC, _NUM = frozenset({"Calls", "Tokens", "Cost"}), ' class="n"'


@dataclass(frozen=True, slots=True)
class RunPages:
    """What was written: the run page, and the cassette pages next to it."""

    index: Path
    cassette_pages: dict[str, Path]


def cassette_tests(cassettes: Mapping[str, Sequence[TraceSpan]]) -> dict[str, Any]:
    """A run report for a folder of cassettes (``relative path: spans``): one row per
    cassette, named by its path in the folder (which mirrors the test's node id)."""
    tests = []
    for relative, spans in cassettes.items():
        summary = summarize(call_spans(spans))
        total = summary.total
        tests.append(
            {
                "nodeid": relative.removesuffix(".jsonl"),
                "cassette": relative,
                "cost_usd": total.cost_usd,
                "tokens": total.tokens,
                "unpriced_calls": total.unpriced_calls,
                "by_agent": {k: _group(v) for k, v in summary.by_agent.items()},
                "by_model": {k: _group(v) for k, v in summary.by_model.items()},
            }
        )
    return run_report_json("cassettes", tests, [])


def _group(stats: GroupStats) -> dict[str, Any]:
    return {
        "calls": stats.calls,
        "tokens": stats.tokens,
        "cost_usd": stats.cost_usd,
        "unpriced_calls": stats.unpriced_calls,
    }


def _stats(group: Mapping[str, Any]) -> GroupStats:
    return GroupStats(
        calls=group["calls"], tokens=group["tokens"], cost_usd=group["cost_usd"], unpriced_calls=group["unpriced_calls"]
    )


def page_for(cassette: str, pages: Path) -> Path:
    """Where a cassette's page goes: its path mirrored under ``pages``, or (for a path
    outside the working folder) a name of its own there, so no page lands outside."""
    relative = Path(os.path.normpath(cassette))
    if relative.is_absolute() or relative.parts[:1] == (os.pardir,):
        digest = hashlib.sha256(cassette.encode()).hexdigest()[:12]
        relative = Path("_elsewhere") / f"{digest}-{relative.name}"
    return pages / relative.with_name(relative.name + ".html")


def _href(page: Path, index: Path) -> str:
    return quote(Path(os.path.relpath(page, index.parent)).as_posix())


def _drift(value: Any) -> str:
    """A test's drift (written by the plugin's drift check), as a short line and the data."""
    if not value:
        return ""
    if isinstance(value, Mapping):
        parts = [f"{k} {len(v) if isinstance(v, list | dict) else v}" for k, v in value.items() if k != "summary"]
        short = str(value.get("summary") or ", ".join(p for p in parts[:4] if not p.endswith(" 0")) or "drifted")
    else:
        short = "drifted"
    data = _json(scrub_value(value)[0])
    return f'<details class="drift"><summary>{_e(short)}</summary><pre>{_e(data)}</pre></details>'


def _row(test: Mapping[str, Any], link: str | None, with_drift: bool) -> str:
    name = _e(test["nodeid"])
    cell = f'<a href="{_e(link)}">{name}</a>' if link else name
    notes = [
        note
        for flag, note in (("missing", "cassette missing"), ("written", "written"), ("no_calls", "no calls"))
        if test.get(flag)
    ]
    if test.get("unused_calls"):
        notes.append(f"{test['unused_calls']} unused calls")
    if test.get("cassette") and not link and not test.get("missing"):
        notes.append("no cassette page")
    unpriced = test.get("unpriced_calls", 0)
    cost = usd(test.get("cost_usd", 0.0)) + (f" + {unpriced} unpriced" if unpriced else "")
    if unpriced and unpriced == calls_of(test):
        cost = "unpriced"
    drift = f"<td>{_drift(test.get('drift'))}</td>" if with_drift else ""
    return (
        f'<tr class="test"><td class="nodeid">{cell}</td><td>{_e(test.get("mode", ""))}</td>'
        f'<td class="n">{calls_of(test):,}</td><td class="n">{test.get("tokens", 0):,}</td>'
        f'<td class="n">{_e(cost)}</td>{drift}<td class="muted">{_e(", ".join(notes))}</td></tr>'
    )


def _cards(report: Mapping[str, Any]) -> str:
    totals, tests = report["totals"], report["tests"]
    cards = [
        ("Total cost", usd(totals["cost_usd"]), ""),
        ("Tests", f"{len(tests):,}", ""),
        ("Calls", f"{sum(calls_of(t) for t in tests):,}", ""),
        ("Tokens", f"{totals['tokens']:,}", ""),
        ("Mode", str(report["mode"]), ""),
    ]
    if totals["unpriced_calls"]:
        cards.append(("Unpriced calls", f"{totals['unpriced_calls']} (cost unknown)", " warn"))
    if totals["cassettes_missing"]:
        cards.append(("Cassettes missing", str(len(totals["cassettes_missing"])), " warn"))
    drifted = sum(1 for t in tests if t.get("drift"))
    if drifted:
        cards.append(("Drifted tests", str(drifted), " warn"))
    return cards_html(cards)


def render_run_html(report: Mapping[str, Any], links: Mapping[str, str], source: str) -> str:
    """The run page; ``links`` maps a cassette path (as the report spells it) to its page."""
    tests = report["tests"]
    with_drift = any(t.get("drift") for t in tests)
    header = ["Test", "Mode", "Calls", "Tokens", "Cost", *(["Drift"] if with_drift else []), "Notes"]
    heads = "".join(f"<th{_NUM * (h in _NUMERIC)}>{_e(h)}</th>" for h in header)
    rows = "".join(_row(t, links.get(t.get("cassette", "")), with_drift) for t in tests)
    groups = {k: {n: _stats(g) for n, g in report.get(k, {}).items()} for k in ("by_agent", "by_model")}
    agents = {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(groups["by_agent"])}
    parts = [
        f'<header><h1>Run: {_e(source)}</h1><p class="sub">{len(tests)} tests · pyagent-trace {_e(__version__)}</p>',
        _cards(report),
        "</header><main>",
        '<section id="costs" class="charts">',
        _bars("Cost by agent", groups["by_agent"], agents),
        _bars("Cost by model", groups["by_model"], None),
        "</section>",
        f'<section id="tests"><h2>Tests</h2><table class="tests"><thead><tr>{heads}</tr></thead>'
        f"<tbody>{rows}</tbody></table></section>",
        "</main>",
    ]
    return page_html(f"run · {source}", parts)


def write_run_pages(
    report: Mapping[str, Any],
    index: Path,
    load: Callable[[str], Sequence[TraceSpan] | None],
    write: Callable[[Path, str], None],
    source: str,
) -> RunPages:
    """Write each cassette's page into ``<index stem>-cassettes/`` and the run page at
    ``index``. ``load`` gives a cassette's spans (None: no such file, so no link)."""
    pages_dir = index.with_name(index.stem + "-cassettes")
    pages: dict[str, Path] = {}
    for cassette in dict.fromkeys(t["cassette"] for t in report["tests"] if t.get("cassette")):
        spans = load(cassette)
        if not spans:
            continue
        page = page_for(cassette, pages_dir)
        back = quote(Path(os.path.relpath(index, page.parent)).as_posix())
        write(page, render_html(spans, Path(cassette).stem, cassette, back=back))
        pages[cassette] = page
    links = {cassette: _href(page, index) for cassette, page in pages.items()}
    write(index, render_run_html(report, links, source))
    return RunPages(index, pages)
