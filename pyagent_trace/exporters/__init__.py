"""Sinks for trace events: subscribe ``exporter.export_event`` to a TraceEventBus."""

from pyagent_trace.exporters._base import TraceExporter
from pyagent_trace.exporters.console import ConsoleExporter
from pyagent_trace.exporters.jsonl import JsonlExporter

__all__ = ["ConsoleExporter", "JsonlExporter", "TraceExporter"]
