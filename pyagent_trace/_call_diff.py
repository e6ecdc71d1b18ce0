"""What changed between two runs, for reviewing a re-recorded cassette in a pull request.

The one diff mechanism: ``pyagent-trace diff`` prints it and ``pyagent_trace.drift``
counts it, so it lives in the library, not in the CLI package.
Calls are paired per agent by their prompts (difflib over the agent's sequence of
prompts), so one inserted call reads as "1 call added", not as every later call changed.
Times and timestamps are ignored: they differ on every re-recording.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyagent_trace._messages import render_messages
from pyagent_trace._trace_summary import GroupStats, summarize
from pyagent_trace._usd import usd, usd_delta
from pyagent_trace.trace_service import TraceSpan, call_spans

__all__ = ["DiffReport", "compare"]

_MAX_DIFF_LINES = 80


@dataclass(frozen=True, slots=True)
class DiffReport:
    """``same`` when no call was added, removed or changed; ``lines()`` for people.

    ``requests_changed`` counts the changed calls that were asked differently (model,
    prompt, request line): those a replay of the old file could no longer answer;
    ``responses_changed`` those whose response text changed."""

    a_name: str
    b_name: str
    a: GroupStats
    b: GroupStats
    sections: list[list[str]] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    changed: int = 0
    requests_changed: int = 0
    responses_changed: int = 0

    @property
    def same(self) -> bool:
        return not self.sections

    def lines(self) -> list[str]:
        out = [
            f"--- {self.a_name}  {_totals(self.a)}",
            f"+++ {self.b_name}  {_totals(self.b)}",
        ]
        if self.same:
            return [*out, f"No differences: {self.a.calls} calls match (models, prompts, responses, tokens, cost)."]
        out.append(_deltas(self.a, self.b))
        for section in self.sections:
            out.extend(["", *section])
        return out


def _totals(g: GroupStats) -> str:
    return f"{g.calls} call{'s' * (g.calls != 1)}, {g.tokens:,} tokens, {usd(g.cost_usd)}"


def _deltas(a: GroupStats, b: GroupStats) -> str:
    cost = f"cost {usd(a.cost_usd)} → {usd(b.cost_usd)} ({usd_delta(b.cost_usd - a.cost_usd)})"
    toks = f"tokens {a.tokens:,} → {b.tokens:,} ({b.tokens - a.tokens:+,})"
    calls = f"calls {a.calls} → {b.calls} ({b.calls - a.calls:+})"
    return f"{cost}; {toks}; {calls}"


def _prompt(call: TraceSpan) -> list[str]:
    return render_messages(call.messages)


def _unified(before: list[str], after: list[str], a_name: str, b_name: str) -> list[str]:
    diff = list(difflib.unified_diff(before, after, fromfile=a_name, tofile=b_name, lineterm="", n=2))
    if len(diff) > _MAX_DIFF_LINES:
        diff = [*diff[:_MAX_DIFF_LINES], f"... ({len(diff) - _MAX_DIFF_LINES} more diff lines)"]
    return [f"    {line}" for line in diff]


def _http(call: TraceSpan) -> tuple[Any, Any]:
    http = call.metadata.get("http")
    if not isinstance(http, dict):
        return None, None
    request, response = http.get("request"), http.get("response")
    target = f"{request.get('method', '')} {request.get('url', '')}".strip() if isinstance(request, dict) else None
    status = response.get("status") if isinstance(response, dict) else None
    return target, status


def _describe(call: TraceSpan, number: int) -> str:
    cost = usd(call.cost_usd) if call.priced else "unpriced"
    return f"call {number} ({call.model or '-'}, {call.input_tokens}→{call.output_tokens} tok, {cost})"


def _asked_differently(a: TraceSpan, b: TraceSpan) -> bool:
    return a.model != b.model or _http(a)[0] != _http(b)[0] or _prompt(a) != _prompt(b)


def _changes(a: TraceSpan, b: TraceSpan, names: tuple[str, str]) -> list[str]:
    out: list[str] = []
    if a.model != b.model:
        out.append(f"  model: {a.model or '-'} → {b.model or '-'}")
    (target_a, status_a), (target_b, status_b) = _http(a), _http(b)
    if target_a != target_b:
        out.append(f"  request: {target_a} → {target_b}")
    if status_a != status_b:
        out.append(f"  status: {status_a} → {status_b}")
    if _prompt(a) != _prompt(b):
        out.extend(["  prompt changed:", *_unified(_prompt(a), _prompt(b), *names)])
    if a.response != b.response:
        out.extend(["  response changed:", *_unified(a.response.splitlines(), b.response.splitlines(), *names)])
    if (a.input_tokens, a.output_tokens) != (b.input_tokens, b.output_tokens):
        out.append(
            f"  tokens: {a.input_tokens}→{a.output_tokens} → {b.input_tokens}→{b.output_tokens} "
            f"({b.tokens - a.tokens:+})"
        )
    if a.cost_usd != b.cost_usd or a.priced != b.priced:
        out.append(f"  cost: {usd(a.cost_usd)} → {usd(b.cost_usd)} ({usd_delta(b.cost_usd - a.cost_usd)})")
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


@dataclass(slots=True)
class _Section:
    """One agent's differences: the lines, and the counts (added, removed, changed, asked
    differently, answered differently)."""

    lines: list[str]
    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)


def _agent_section(
    agent: str, a_calls: Sequence[TraceSpan], b_calls: Sequence[TraceSpan], names: tuple[str, str]
) -> _Section:
    keys_a = ["\n".join(_prompt(c)) for c in a_calls]
    keys_b = ["\n".join(_prompt(c)) for c in b_calls]
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    body: list[str] = []
    added = removed = changed = asked = answered = 0
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            if i < i2 and j < j2:
                found = _changes(a_calls[i], b_calls[j], names)
                if found:
                    changed += 1
                    asked += _asked_differently(a_calls[i], b_calls[j])
                    answered += a_calls[i].response != b_calls[j].response
                    number = f"{i + 1}" if i == j else f"{i + 1} → {j + 1}"
                    body.extend([f"  ~ call {number} changed", *[f"  {line}" for line in found]])
            elif i < i2:
                removed += 1
                body.append(f"  - {_describe(a_calls[i], i + 1)}")
            else:
                added += 1
                body.append(f"  + {_describe(b_calls[j], j + 1)}")
    if not body:
        return _Section([])
    counts = [
        _plural(n, "call") + " " + what
        for n, what in ((added, "added"), (removed, "removed"), (changed, "changed"))
        if n
    ]
    return _Section([f"agent {agent or '-'}: {', '.join(counts)}", *body], (added, removed, changed, asked, answered))


def compare(a: Sequence[TraceSpan], b: Sequence[TraceSpan], a_name: str, b_name: str) -> DiffReport:
    """Compare the agent calls of two runs (see the module docstring for the pairing)."""
    a_calls, b_calls = call_spans(a), call_spans(b)
    agents = list(dict.fromkeys([c.agent_name for c in a_calls] + [c.agent_name for c in b_calls]))
    sections = [
        _agent_section(
            agent,
            [c for c in a_calls if c.agent_name == agent],
            [c for c in b_calls if c.agent_name == agent],
            (a_name, b_name),
        )
        for agent in agents
    ]
    added, removed, changed, asked, answered = (sum(s.counts[n] for s in sections) for n in range(5))
    return DiffReport(
        a_name,
        b_name,
        summarize(a_calls).total,
        summarize(b_calls).total,
        [s.lines for s in sections if s.lines],
        added=added,
        removed=removed,
        changed=changed,
        requests_changed=asked,
        responses_changed=answered,
    )
