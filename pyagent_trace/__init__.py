"""pyagent-trace: record, replay, cost and trace LLM agents with OpenTelemetry."""

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
from pyagent_trace.recorder import RecordEntry, Recorder
from pyagent_trace.replay import ReplayLLM
from pyagent_trace.spans import PatternSpanEmitter, traced_agent, traced_pattern

__version__ = "0.4.0"

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
    "__version__",
    "traced_agent",
    "traced_pattern",
]
