"""FailSafeSpanExporter: a span exporter that can fail without anyone noticing but the log.

OpenTelemetry exporters already run off the traced thread (BatchSpanProcessor); what
they do not do is stay quiet: every failed batch logs an error, and an exporter bug
raises into the processor. This wrapper turns every failure into one warning for the
whole life of the exporter and a counter, so a backend that is down costs the program
one log line and the spans it could not send.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from pyagent_trace.exporters._base import ErrorPolicy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["ExportFailedError", "FailSafeSpanExporter"]

logger = logging.getLogger("pyagent_trace.exporters")


class ExportFailedError(ConnectionError):
    """A backend refused a batch or did not answer (logged, never raised to the program)."""


class FailSafeSpanExporter(SpanExporter):
    """Wrap ``exporter``: never raise, warn once, count what was sent and what was lost.

    Args:
        exporter: the real exporter (OTLP/HTTP, OTLP/gRPC, …).
        backend: how the warning names the destination, e.g. ``"OTLP http://localhost:4318"``.
        raise_errors: re-raise exporter exceptions (the project's own tests only).
    """

    def __init__(self, exporter: SpanExporter, backend: str, *, raise_errors: bool = False) -> None:
        self.exporter = exporter
        self.backend = backend
        self._errors = ErrorPolicy(logger, raise_errors=raise_errors)
        self._lock = threading.Lock()
        self.exported_spans = 0
        self.dropped_spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.exporter.export(spans)
        except Exception as exc:
            self._count(0, len(spans))
            self._errors.handle(self._what(len(spans)), exc)
            return SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self._count(len(spans), 0)
        else:
            self._count(0, len(spans))
            msg = (
                f"the backend refused the batch or did not answer in time; check that it is "
                f"up and reachable (spans dropped so far: {self.dropped_spans})"
            )
            self._errors.handle(self._what(len(spans)), ExportFailedError(msg))
        return result

    def _what(self, count: int) -> str:
        return f"pyagent-trace: exporting {count} span(s) to {self.backend}"

    def _count(self, sent: int, lost: int) -> None:
        with self._lock:
            self.exported_spans += sent
            self.dropped_spans += lost

    @property
    def failure_count(self) -> int:
        """Failed export calls (each one a batch); the first was logged as a warning."""
        return self._errors.error_count

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        try:
            return bool(self.exporter.force_flush(timeout_millis))
        except Exception as exc:
            self._errors.handle(f"pyagent-trace: flushing {self.backend}", exc)
            return False

    def shutdown(self) -> None:
        try:
            self.exporter.shutdown()
        except Exception as exc:
            self._errors.handle(f"pyagent-trace: shutting down {self.backend}", exc)
