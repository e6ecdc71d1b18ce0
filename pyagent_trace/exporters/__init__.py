"""Sinks for trace events: subscribe ``exporter.export_event`` to a TraceEventBus.

The OpenTelemetry bridge is re-exported lazily: importing the console/JSONL sinks must not
pay for the OpenTelemetry SDK. Langfuse and Datadog live in their own modules (extras).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from typing import TYPE_CHECKING, Any

from pyagent_trace.exporters._base import TraceExporter
from pyagent_trace.exporters.console import ConsoleExporter
from pyagent_trace.exporters.jsonl import JsonlExporter

if TYPE_CHECKING:
    from pyagent_trace.exporters.otel import OpenTelemetryBridge

__all__ = ["ConsoleExporter", "JsonlExporter", "OpenTelemetryBridge", "TraceExporter"]


def __getattr__(name: str) -> Any:
    if name == "OpenTelemetryBridge":
        from pyagent_trace.exporters.otel import OpenTelemetryBridge

        return OpenTelemetryBridge
    msg = f"module 'pyagent_trace.exporters' has no attribute {name!r}"
    raise AttributeError(msg)
