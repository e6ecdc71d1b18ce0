"""pyagent-trace: record, replay, cost and trace LLM agents with OpenTelemetry.

Names are re-exported lazily (PEP 562): ``import pyagent_trace.exceptions`` — which the
pytest plugin does in every session — must not pay for OpenTelemetry and the price table.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyagent_trace._lazy import lazy_getattr

if TYPE_CHECKING:
    from pyagent_trace.cost import CostEntry, CostSummary, CostTracker
    from pyagent_trace.events import TraceEvent, TraceEventBus
    from pyagent_trace.exceptions import (
        BadRecordingError,
        BudgetExceededError,
        CassetteMissingError,
        ConfigError,
        NetworkBlockedError,
        PyAgentTraceError,
        PyAgentTraceWarning,
        ReplayExhaustedError,
        ReplayMismatchError,
    )
    from pyagent_trace.pricing import DEFAULT_PRICES, ModelPrice, PriceTable
    from pyagent_trace.recorder import RecordEntry, Recorder
    from pyagent_trace.replay import ReplayLLM
    from pyagent_trace.spans import PatternSpanEmitter, traced_agent, traced_pattern
    from pyagent_trace.trace_service import TraceService

__version__ = "0.4.0"

_WHERE = {
    "CostEntry": "cost",
    "CostSummary": "cost",
    "CostTracker": "cost",
    "TraceEvent": "events",
    "TraceEventBus": "events",
    "BadRecordingError": "exceptions",
    "BudgetExceededError": "exceptions",
    "CassetteMissingError": "exceptions",
    "ConfigError": "exceptions",
    "NetworkBlockedError": "exceptions",
    "PyAgentTraceError": "exceptions",
    "PyAgentTraceWarning": "exceptions",
    "ReplayExhaustedError": "exceptions",
    "ReplayMismatchError": "exceptions",
    "DEFAULT_PRICES": "pricing",
    "ModelPrice": "pricing",
    "PriceTable": "pricing",
    "RecordEntry": "recorder",
    "Recorder": "recorder",
    "ReplayLLM": "replay",
    "PatternSpanEmitter": "spans",
    "traced_agent": "spans",
    "traced_pattern": "spans",
    "TraceService": "trace_service",
}

__all__ = [
    "DEFAULT_PRICES",
    "BadRecordingError",
    "BudgetExceededError",
    "CassetteMissingError",
    "ConfigError",
    "CostEntry",
    "CostSummary",
    "CostTracker",
    "ModelPrice",
    "NetworkBlockedError",
    "PatternSpanEmitter",
    "PriceTable",
    "PyAgentTraceError",
    "PyAgentTraceWarning",
    "RecordEntry",
    "Recorder",
    "ReplayExhaustedError",
    "ReplayLLM",
    "ReplayMismatchError",
    "TraceEvent",
    "TraceEventBus",
    "TraceService",
    "__version__",
    "traced_agent",
    "traced_pattern",
]


__getattr__ = lazy_getattr("pyagent_trace", _WHERE, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
