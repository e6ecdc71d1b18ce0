"""Drift and cost regressions: what a live run changed against the committed cassette.

A drift check (record mode ``check``) and a re-record (``all``, ``new``) both end with
two lists of entries: a test's calls as the committed cassette held them (``before``)
and as the run made them (``after``). Drift is ``pyagent-trace diff`` between the two —
the same pairing of calls and the same text diffs, so there is one diff mechanism — with
its counts and totals as data. A cost regression is cost or tokens growing more than a
ratio over ``before``, naming the agents and models that grew.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyagent_trace._call_diff import compare
from pyagent_trace._recording import RecordEntry
from pyagent_trace._trace_summary import GroupStats, summarize
from pyagent_trace._usd import usd
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.trace_service import TraceSpan, call_spans, entry_spans

__all__ = ["DRIFT_LEVELS", "Drift", "check_ratio", "compute_drift", "cost_regression"]

DRIFT_LEVELS = ("none", "calls", "text")
"""How much drift fails a test: ``none`` (report only), ``calls`` (calls added, removed or
asked differently: model, prompt, request), ``text`` (also a response whose text changed)."""

_TOTALS = ("calls", "input_tokens", "output_tokens", "tokens", "cost_usd")


@dataclass(frozen=True, slots=True)
class Drift:
    """How a test's live calls differ from its committed cassette. ``baseline`` is False
    when there was no cassette to compare with (every live call counts as added)."""

    baseline: bool
    added: int
    removed: int
    changed: int
    requests_changed: int
    responses_changed: int
    before: GroupStats
    after: GroupStats
    diff: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def crosses(self, level: str) -> bool:
        """Whether this drift fails a test under ``pyagent_trace_drift_fail = level``."""
        asked = bool(self.added or self.removed or self.requests_changed)
        return (level == "calls" and asked) or (level == "text" and (asked or bool(self.responses_changed)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for ``--cost-report`` (each test's ``drift``)."""
        return {
            "drifted": self.drifted,
            "baseline": self.baseline,
            "calls_added": self.added,
            "calls_removed": self.removed,
            "calls_changed": self.changed,
            "requests_changed": self.requests_changed,
            "responses_changed": self.responses_changed,
            "before": {k: getattr(self.before, k) for k in _TOTALS},
            "after": {k: getattr(self.after, k) for k in _TOTALS},
            "diff": list(self.diff),
        }


def _calls(entries: Sequence[RecordEntry] | None, source: str) -> list[TraceSpan]:
    return call_spans(entry_spans(entries or (), source))


def compute_drift(
    before: Sequence[RecordEntry] | None, after: Sequence[RecordEntry], names: tuple[str, str] = ("cassette", "live")
) -> Drift:
    """The drift from ``before`` (None: no cassette) to ``after``; ``names`` head the text diffs."""
    report = compare(_calls(before, names[0]), _calls(after, names[1]), *names)
    diff = [line for n, section in enumerate(report.sections) for line in ([""] if n else []) + section]
    return Drift(
        baseline=before is not None,
        added=report.added,
        removed=report.removed,
        changed=report.changed,
        requests_changed=report.requests_changed,
        responses_changed=report.responses_changed,
        before=report.a,
        after=report.b,
        diff=tuple(diff),
    )


def check_ratio(value: object, where: str) -> float:
    """A regression ratio: a finite number above 1.0 (1.2 allows 20% growth)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{where}={value!r}: give a number above 1.0, e.g. 1.2 (20% growth allowed)."
        raise ConfigError(msg)
    if not math.isfinite(value) or value <= 1.0:
        msg = f"{where}={value!r}: must be a finite number above 1.0, e.g. 1.2 (20% growth allowed)."
        raise ConfigError(msg)
    return float(value)


def _ratio(before: float, after: float) -> str:
    return f"{after / before:.2f}x" if before else "new"


def _growth(name: str, b: GroupStats, a: GroupStats) -> str:
    cost = f"{usd(b.cost_usd)} → {usd(a.cost_usd)} ({_ratio(b.cost_usd, a.cost_usd)})"
    return f"{name}: {cost}, tokens {b.tokens:,} → {a.tokens:,} ({_ratio(b.tokens, a.tokens)})"


def cost_regression(before: Sequence[RecordEntry], after: Sequence[RecordEntry], ratio: float) -> list[str]:
    """Why ``after`` costs too much more than ``before``: cost or tokens over ``ratio`` times
    the baseline's, then each agent and model that grew (largest growth first). Empty when
    within the ratio, or when the baseline has nothing to grow from (no calls, no tokens)."""
    b_calls, a_calls = _calls(before, "before"), _calls(after, "after")
    b, a = summarize(b_calls).total, summarize(a_calls).total
    over = [
        what
        for what, old, new in (("cost", b.cost_usd, a.cost_usd), ("tokens", b.tokens, a.tokens))
        if old > 0 and new > old * ratio
    ]
    if not over:
        return []
    groups_b = _by_agent_and_model(b_calls)
    groups_a = _by_agent_and_model(a_calls)
    empty = GroupStats()
    grew = sorted(
        (key for key, stats in groups_a.items() if _grew(groups_b.get(key, empty), stats)),
        key=lambda k: -(groups_a[k].cost_usd - groups_b.get(k, empty).cost_usd),
    )
    lines = [f"{' and '.join(over)} grew more than {ratio:g}x over the committed cassette:"]
    lines.append("  " + _growth("total", b, a))
    lines += [f"  {_growth(_group_name(key), groups_b.get(key, empty), groups_a[key])}" for key in grew]
    return lines


def _grew(b: GroupStats, a: GroupStats) -> bool:
    return a.cost_usd > b.cost_usd or a.tokens > b.tokens


def _by_agent_and_model(calls: Sequence[TraceSpan]) -> dict[tuple[str, str], GroupStats]:
    keys = list(dict.fromkeys((c.agent_name, c.model) for c in calls))
    return {key: summarize([c for c in calls if (c.agent_name, c.model) == key]).total for key in keys}


def _group_name(key: tuple[str, str]) -> str:
    agent, model = key
    return f"agent {agent!r}, model {model or '-'}" if agent else f"no agent, model {model or '-'}"
