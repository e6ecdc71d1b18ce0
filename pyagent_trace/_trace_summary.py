"""Totals of loaded calls by pattern, agent and model, as data (TraceService.summary).

Not built on CostTracker: ``CostTracker.record`` re-prices a recorded cost of 0.0 and
warns about unpriced models, which would change what the file says, and it keeps no
durations. The rounding is the same (12 decimals, so 0.00094 + 0.00098 prints cleanly).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyagent_trace.trace_service import TraceSpan

__all__ = ["GroupStats", "TraceSummary", "summarize"]

_DECIMALS = 12


@dataclass(frozen=True, slots=True)
class GroupStats:
    """Calls of one group (or of everything). ``unpriced_calls`` have an unknown cost."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0
    unpriced_calls: int = 0

    @property
    def mean_ms(self) -> float:
        return self.duration_ms / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mean_ms": self.mean_ms}


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """What a run cost and how long it took; ``spans`` counts every loaded span."""

    spans: int
    total: GroupStats
    by_pattern: dict[str, GroupStats]
    by_agent: dict[str, GroupStats]
    by_model: dict[str, GroupStats]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (for ``pyagent-trace stats --json``)."""
        groups = {"by_pattern": self.by_pattern, "by_agent": self.by_agent, "by_model": self.by_model}
        return {
            "spans": self.spans,
            "total": self.total.to_dict(),
            **{name: {k: v.to_dict() for k, v in table.items()} for name, table in groups.items()},
        }


def _stats(calls: Sequence[TraceSpan]) -> GroupStats:
    return GroupStats(
        calls=len(calls),
        input_tokens=sum(c.input_tokens for c in calls),
        output_tokens=sum(c.output_tokens for c in calls),
        tokens=sum(c.tokens for c in calls),
        cost_usd=round(math.fsum(c.cost_usd for c in calls), _DECIMALS),
        duration_ms=round(math.fsum(c.duration_ms for c in calls), 6),
        unpriced_calls=sum(not c.priced for c in calls),
    )


def _group(calls: Sequence[TraceSpan], key: Callable[[TraceSpan], str]) -> dict[str, GroupStats]:
    groups: dict[str, list[TraceSpan]] = {}
    for call in calls:
        groups.setdefault(key(call), []).append(call)
    return {name: _stats(members) for name, members in groups.items()}


def summarize(calls: Sequence[TraceSpan], *, spans: int | None = None) -> TraceSummary:
    """Group ``calls`` (one span per model call) in first-seen order."""
    return TraceSummary(
        spans=len(calls) if spans is None else spans,
        total=_stats(calls),
        by_pattern=_group(calls, lambda c: c.pattern_type),
        by_agent=_group(calls, lambda c: c.agent_name),
        by_model=_group(calls, lambda c: c.model),
    )
