"""pytest plugin for pyagent-trace: cassettes, cost budgets, span assertions and snapshots.

The fixtures' types, for annotations (``def test_plan(cassette: Cassette, spans: CapturedSpans)``):
``Cassette`` and ``CostTracker`` come from the library, ``CapturedSpans`` and ``SpanTree`` from
here. Imported on first use, so the plugin itself stays light.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyagent_trace._lazy import lazy_getattr

if TYPE_CHECKING:
    from pyagent_trace.cassette import Cassette
    from pyagent_trace.cost import CostTracker
    from pyagent_trace.events import TraceEventBus
    from pytest_pyagent_trace._spans import CapturedSpans, SpanTree

_WHERE = {
    "Cassette": "pyagent_trace.cassette",
    "CostTracker": "pyagent_trace.cost",
    "TraceEventBus": "pyagent_trace.events",
    "CapturedSpans": "pytest_pyagent_trace._spans",
    "SpanTree": "pytest_pyagent_trace._spans",
}

__all__ = ["CapturedSpans", "Cassette", "CostTracker", "SpanTree", "TraceEventBus"]


__getattr__ = lazy_getattr("pytest_pyagent_trace", _WHERE, globals())
