"""How the command line and the HTML report spell time, tokens and model names.

Dollars are spelled by ``pyagent_trace._usd``: the library's drift messages use them too.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from pyagent_trace.trace_service import TraceSpan

__all__ = [
    "early_stop",
    "run_duration_ms",
    "seconds",
    "service_name",
    "short_model",
    "sum_cost",
    "title_of",
    "tokens",
]

_SNAPSHOT_DATE = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def seconds(ms: float) -> str:
    """``2.4s``; ``35ms`` below a tenth of a second, where one decimal would show 0.0s."""
    if ms < 100:
        return f"{ms:.0f}ms"
    return f"{ms / 1000:.1f}s"


def tokens(span: TraceSpan) -> str:
    return f"{span.input_tokens}→{span.output_tokens} tok"


def short_model(model: str) -> str:
    """``claude-sonnet-4-20250514`` → ``claude-sonnet-4``: the tree shows families, as the docs do."""
    return _SNAPSHOT_DATE.sub("", model)


def sum_cost(spans: Iterable[TraceSpan]) -> float:
    return round(math.fsum(s.cost_usd for s in spans), 12)


def service_name(spans: Sequence[TraceSpan], fallback: str) -> str:
    """The ``service_name`` (or ``service``) given to ``Recorder.start``, else ``fallback``."""
    for span in spans:
        if span.event_type == "pattern_start":
            for key in ("service_name", "service"):
                value = span.metadata.get(key)
                if isinstance(value, str) and value:
                    return value
    return fallback


def title_of(spans: Sequence[TraceSpan], fallback: str) -> str:
    """``investment-analysis / debate``: service (or file name) and the patterns run."""
    patterns = list(dict.fromkeys(s.pattern_type for s in spans if s.pattern_type))
    service = service_name(spans, fallback)
    return f"{service} / {', '.join(patterns)}" if patterns else service


def run_duration_ms(spans: Sequence[TraceSpan], calls: Sequence[TraceSpan]) -> float:
    """The patterns' own durations when recorded, else the calls' durations added up."""
    ends = [s.duration_ms for s in spans if s.event_type == "pattern_end" and s.duration_ms > 0]
    return math.fsum(ends) if ends else math.fsum(c.duration_ms for c in calls)


def early_stop(spans: Sequence[TraceSpan]) -> bool:
    return any(s.metadata.get("early_stop") is True for s in spans if s.event_type == "pattern_end")
