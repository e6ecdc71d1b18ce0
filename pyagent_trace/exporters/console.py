"""ConsoleExporter: one readable line per event, for development.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, TextIO

from pyagent_trace.events import TraceEvent
from pyagent_trace.exporters._base import ErrorPolicy

__all__ = ["ConsoleExporter", "format_event"]

logger = logging.getLogger(__name__)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if value else "0"
    return str(value)


def format_event(event: TraceEvent) -> str:
    """``[agent_start] agent=analyst``, ``[cost_record] agent=analyst tokens=42 cost=0.0001``…"""
    parts = [f"[{event.event_type}]"]
    if event.agent_name:
        parts.append(f"agent={event.agent_name}")
    if event.pattern_type and event.event_type.startswith("pattern"):
        parts.append(f"pattern={event.pattern_type}")
    payload = event.payload
    if event.event_type == "cost_record":
        tokens = payload.get("tokens")
        if tokens is None:
            tokens = payload.get("input_tokens", 0) + payload.get("output_tokens", 0)
        parts.append(f"tokens={tokens}")
        cost = payload.get("cost_usd")
        parts.append("cost=unpriced" if payload.get("priced") is False else f"cost={_number(cost)}")
    elif event.event_type.endswith("_end"):
        if "duration_ms" in payload:
            parts.append(f"duration_ms={_number(float(payload['duration_ms']))}")
        elif "duration_seconds" in payload:
            parts.append(f"duration_ms={payload['duration_seconds'] * 1000:.0f}")
    elif event.event_type == "llm_call":
        for key in ("model", "input_tokens", "output_tokens"):
            if key in payload:
                parts.append(f"{key}={_number(payload[key])}")
    return " ".join(parts)


class ConsoleExporter:
    """Print each event as one line to ``stream`` (stdout by default, looked up per event
    so pytest's capture and redirections see it)."""

    def __init__(self, stream: TextIO | None = None, *, raise_errors: bool = False) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._errors = ErrorPolicy(logger, raise_errors=raise_errors)

    def export_event(self, event: TraceEvent) -> None:
        try:
            line = format_event(event)
            stream = self._stream or sys.stdout
            with self._lock:
                stream.write(line + "\n")
        except Exception as exc:
            self._errors.handle("ConsoleExporter", exc)

    def flush(self) -> bool:
        try:
            (self._stream or sys.stdout).flush()
        except Exception as exc:
            self._errors.handle("ConsoleExporter.flush", exc)
            return False
        return True

    def shutdown(self) -> bool:
        return self.flush()
