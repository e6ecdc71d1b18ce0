"""One self-contained HTML page for a run: waterfall, cost bars, the tree, every call.

Everything is inline (see ``_report_assets``) so the file opens from disk, offline, and
can be attached to a pull request or an issue. Text is escaped, and secrets are scrubbed
again before they reach the page, because reports get shared further than cassettes.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import orjson

from pyagent_trace import __version__
from pyagent_trace._messages import to_plain_messages
from pyagent_trace._trace_summary import GroupStats, summarize
from pyagent_trace._usd import usd
from pyagent_trace.cli._format import early_stop, run_duration_ms, seconds, title_of
from pyagent_trace.cli._report_assets import CSP, CSS, JS
from pyagent_trace.cli._tree import tree_lines
from pyagent_trace.scrub import Scrubber
from pyagent_trace.trace_service import TraceSpan, call_spans

__all__ = ["cards_html", "page_html", "render_html", "timeline"]

_PALETTE = ("#3b5bdb", "#e8590c", "#2f9e44", "#ae3ec9", "#1098ad", "#f08c00", "#c2255c", "#5c7cfa", "#74b816")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def timeline(calls: Sequence[TraceSpan]) -> tuple[list[tuple[float, float]], float, bool]:
    """``(start_ms, end_ms)`` per call from the run's start, the run's length, and whether
    real durations were recorded. Recorded timestamps mark a call's end (the recorder
    writes after the reply); without them, calls are laid end to end."""
    if not any(c.duration_ms > 0 for c in calls):  # nothing timed: one equal slot per call
        return [(float(i), float(i + 1)) for i in range(len(calls))], float(len(calls)), False
    stamps = [c.timestamp for c in calls]
    if calls and all(t > 0 for t in stamps) and (len(set(stamps)) > 1 or len(calls) == 1):
        spans = [(t * 1000 - c.duration_ms, t * 1000) for t, c in zip(stamps, calls, strict=True)]
    else:
        spans, clock = [], 0.0
        for call in calls:
            spans.append((clock, clock + call.duration_ms))
            clock += call.duration_ms
    start = min((s for s, _ in spans), default=0.0)
    length = max((e for _, e in spans), default=0.0) - start
    return [(s - start, e - start) for s, e in spans], length, True


def _colors(calls: Sequence[TraceSpan]) -> dict[str, str]:
    agents = dict.fromkeys(c.agent_name for c in calls)
    return {agent: _PALETTE[i % len(_PALETTE)] for i, agent in enumerate(agents)}


def _waterfall(calls: Sequence[TraceSpan], colors: dict[str, str]) -> str:
    bars, length, timed = timeline(calls)
    rows = []
    for number, (call, (start, end)) in enumerate(zip(calls, bars, strict=True), start=1):
        left, width = 100 * start / length, 100 * (end - start) / length
        tip = f"#{number} {call.agent_name} · {call.model} · {seconds(call.duration_ms)} · {usd(call.cost_usd)}"
        rows.append(
            f'<div class="wf-row"><a class="label" href="#call-{number}" data-call="{number}">'
            f"{_e(call.agent_name or '-')}</a>"
            f'<div class="track"><a class="bar" href="#call-{number}" data-call="{number}" title="{_e(tip)}" '
            f'style="left:{left:.3f}%;width:{width:.3f}%;background:{colors[call.agent_name]}"></a></div>'
            f'<span class="cost">{_e(usd(call.cost_usd))}</span></div>'
        )
    if timed:
        labels = ["0s", *(seconds(length * p / 100) for p in (25, 50, 75, 100))]
        ticks = "".join(
            f'<span style="left:{p}%">{_e(t)}</span>' for p, t in zip((0, 25, 50, 75, 100), labels, strict=True)
        )
    else:
        ticks = '<span style="left:0">call order (no durations recorded)</span>'
    axis = f'<div class="axis"><span></span><div class="ticks">{ticks}</div><span></span></div>'
    return f'<section id="timeline"><h2>Timeline</h2>{"".join(rows)}{axis}</section>'


def _bars(title: str, groups: dict[str, GroupStats], colors: dict[str, str] | None) -> str:
    top = max((g.cost_usd for g in groups.values()), default=0.0) or 1.0
    rows = []
    for i, (name, g) in enumerate(sorted(groups.items(), key=lambda item: -item[1].cost_usd)):
        color = colors.get(name, _PALETTE[0]) if colors is not None else _PALETTE[(i + 3) % len(_PALETTE)]
        unpriced = f" · {g.unpriced_calls} unpriced" if g.unpriced_calls else ""
        value = f"{usd(g.cost_usd)} · {g.tokens:,} tok · {g.calls} call{'s' * (g.calls != 1)}{unpriced}"
        rows.append(
            f'<div class="hbar"><span class="name" title="{_e(name)}">{_e(name or "-")}</span>'
            f'<span class="fill" style="width:{100 * g.cost_usd / top:.2f}%;background:{color}"></span>'
            f'<span class="value">{_e(value)}</span></div>'
        )
    return f'<div class="chart"><h2>{_e(title)}</h2>{"".join(rows)}</div>'


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode()


def _messages(messages: Sequence[dict[str, Any]]) -> str:
    if not messages:
        return '<p class="empty">No messages recorded.</p>'
    out = []
    for message in to_plain_messages(list(messages)):
        role = str(message.get("role", "?"))
        content = message.get("content", "")
        text = content if isinstance(content, str) else _json(content)
        out.append(f'<div class="msg role-{_e(role)}"><div class="role">{_e(role)}</div><pre>{_e(text)}</pre></div>')
    return "".join(out)


def _http_line(metadata: dict[str, Any]) -> str:
    http = metadata.get("http")
    if not isinstance(http, dict):
        return ""
    req, resp = http.get("request") or {}, http.get("response") or {}
    status = f"{resp.get('status', '')} {resp.get('reason', '')}".strip()
    line = f"{req.get('method', '')} {req.get('url', '')} → {status}"
    return f'<h4>HTTP</h4><pre class="http">{_e(line)}</pre>'


def _clean(call: TraceSpan) -> tuple[Sequence[dict[str, Any]], str, dict[str, Any]]:
    row = {"messages": list(call.messages), "response": call.response, "metadata": call.metadata}
    clean = Scrubber().row(row)[0]
    return clean["messages"], clean["response"], clean["metadata"]


def _call(number: int, call: TraceSpan, color: str) -> str:
    messages, response, metadata = _clean(call)
    cost = usd(call.cost_usd) if call.priced else "unpriced"
    summary = (
        f'<summary><span class="num">#{number}</span><span class="swatch" style="background:{color}"></span>'
        f"<b>{_e(call.agent_name or '-')}</b><span>{_e(call.model or '-')}</span>"
        f"<span>{_e(seconds(call.duration_ms))}</span>"
        f"<span>{call.input_tokens}→{call.output_tokens} tok</span><span>{_e(cost)}</span>"
        f'<span class="muted">{_e(call.event_type)}</span></summary>'
    )
    meta = f"<details><summary>metadata</summary><pre>{_e(_json(metadata))}</pre></details>" if metadata else ""
    reply = (
        f'<div class="msg response"><pre>{_e(response)}</pre></div>'
        if response
        else '<p class="empty">No response.</p>'
    )
    body = f"<h4>Messages</h4>{_messages(messages)}<h4>Response</h4>{reply}{_http_line(metadata)}{meta}"
    return f'<details class="call" id="call-{number}">{summary}<div class="body">{body}</div></details>'


def _cards(total: GroupStats, duration_ms: float, stopped: bool) -> str:
    cards = [
        ("Total cost", usd(total.cost_usd), ""),
        ("Calls", f"{total.calls:,}", ""),
        ("Tokens in → out", f"{total.input_tokens:,} → {total.output_tokens:,}", ""),
        ("Duration", seconds(duration_ms), ""),
        ("early_stop", "true" if stopped else "false", ""),
    ]
    if total.unpriced_calls:
        cards.append(("Unpriced calls", f"{total.unpriced_calls} (cost unknown)", " warn"))
    return cards_html(cards)


def cards_html(cards: Sequence[tuple[str, str, str]]) -> str:
    """The summary cards at the top of a page: ``(label, value, " warn" or "")``."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card{cls}"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div></div>'
            for k, v, cls in cards
        )
        + "</div>"
    )


def page_html(title: str, parts: Sequence[str]) -> str:
    """A whole page: the inline assets, the policy that lets it load nothing, and ``parts``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>pyagent-trace · {_e(title)}</title><style>{CSS}</style></head><body>"
        + "".join(parts)
        + f"<script>{JS}</script></body></html>\n"
    )


def render_html(spans: Sequence[TraceSpan], name: str, source: str = "", back: str = "") -> str:
    """The report page for one run; ``name`` titles it when no service name was recorded,
    ``back`` (a relative URL) links to the page of the whole test run it belongs to."""
    calls = call_spans(spans)
    summary = summarize(calls)
    colors = _colors(calls)
    title = title_of(spans, name)
    tree = "\n".join(tree_lines(spans, name))
    toolbar = (
        '<span class="toolbar"><button data-open="1">Expand all</button>'
        '<button data-open="0">Collapse all</button></span>'
    )
    back_link = f'<a class="back" href="{_e(back)}">← whole run</a>' if back else ""
    parts = [
        f"<header>{back_link}<h1>Trace: {_e(title)}</h1>"
        f'<p class="sub">{_e(source)} · pyagent-trace {_e(__version__)}</p>',
        _cards(summary.total, run_duration_ms(spans, calls), early_stop(spans)),
        "</header><main>",
        _waterfall(calls, colors),
        '<section id="costs" class="charts">',
        _bars("Cost by agent", summary.by_agent, colors),
        _bars("Cost by model", summary.by_model, None),
        "</section>",
        f'<section id="tree"><h2>Tree</h2><pre class="tree">{_e(tree)}</pre></section>',
        f'<section id="calls"><h2>Calls {toolbar}</h2>',
        *(_call(i, call, colors[call.agent_name]) for i, call in enumerate(calls, start=1)),
        "</section></main>",
    ]
    return page_html(title, parts)
