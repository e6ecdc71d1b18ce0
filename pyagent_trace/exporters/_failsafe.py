"""FailSafeSpanExporter: a span exporter that can fail without anyone noticing but the log.

OpenTelemetry exporters already run off the traced thread (BatchSpanProcessor); what
they do not do is stay quiet: every failed batch logs an error, and an exporter bug
raises into the processor. This wrapper turns every failure into one warning for the
whole life of the exporter and a counter, so a backend that is down costs the program
one log line and the spans it could not send.

:class:`BoundedTracerProvider` does the same for process exit: the SDK's provider waits
at exit for the batch in flight (up to 30 s; 3 to 13 s measured against dead backends),
ours waits at most ``shutdown_timeout`` (2 s by default, or
``PYAGENT_TRACE_EXPORT_SHUTDOWN_TIMEOUT``) and says once how many spans were not delivered.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from pyagent_trace.exceptions import ConfigError
from pyagent_trace.exporters._base import ErrorPolicy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.sdk.trace import ReadableSpan

__all__ = [
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "SHUTDOWN_TIMEOUT_ENV",
    "BoundedTracerProvider",
    "ExportFailedError",
    "FailSafeSpanExporter",
    "shutdown_timeout",
]

SHUTDOWN_TIMEOUT_ENV: Final = "PYAGENT_TRACE_EXPORT_SHUTDOWN_TIMEOUT"
DEFAULT_SHUTDOWN_TIMEOUT: Final = 2.0

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


def shutdown_timeout(value: float | None = None) -> float:
    """Seconds ``flush()``, ``shutdown()`` and process exit wait for a backend: ``value``,
    else ``PYAGENT_TRACE_EXPORT_SHUTDOWN_TIMEOUT``, else 2."""
    where = "shutdown_timeout="
    if value is None:
        raw = os.environ.get(SHUTDOWN_TIMEOUT_ENV, "").strip()
        if not raw:
            return DEFAULT_SHUTDOWN_TIMEOUT
        where = f"{SHUTDOWN_TIMEOUT_ENV}={raw!r}"
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        msg = f"{where}: give the seconds to wait for a backend at shutdown, a number >= 0 (e.g. 2)."
        raise ConfigError(msg)
    return float(value)


class _EndedSpans(SpanProcessor):
    """Counts the spans that ended, to say how many never reached the backend."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.count += 1


class BoundedTracerProvider(TracerProvider):
    """A TracerProvider whose ``force_flush`` and ``shutdown`` (at exit too) wait for the
    backend at most ``shutdown_timeout`` seconds, then log once what was not delivered.

    The waiting happens in a daemon thread: when time is up the process goes on (or exits)
    and the thread is abandoned. While one such wait is still running, the next flush or
    shutdown does not wait again: a backend that did not answer is not given a second
    chance to hold the exit.
    """

    def __init__(self, exporter: FailSafeSpanExporter, *, shutdown_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(shutdown_on_exit=False, **kwargs)
        self.shutdown_timeout = _resolve(shutdown_timeout)
        self.exporter = exporter
        self._ended = _EndedSpans()
        self.add_span_processor(self._ended)
        self._pending: threading.Thread | None = None
        self._closed = False
        atexit.register(self.shutdown)  # a strong reference, as the SDK's: the last spans leave at exit

    def force_flush(self, timeout_millis: int | None = None) -> bool:
        """Send what has ended; wait at most ``timeout_millis`` (default: ``shutdown_timeout``)."""
        seconds = self.shutdown_timeout if timeout_millis is None else min(timeout_millis / 1000, self.shutdown_timeout)
        return self._bounded("flush", lambda: TracerProvider.force_flush(self), seconds)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.shutdown)
        in_time = self._bounded("shutdown", lambda: TracerProvider.shutdown(self), self.shutdown_timeout)
        self._report(in_time)

    @property
    def undelivered_spans(self) -> int:
        """Spans that ended but the backend has not taken (queued, in flight, or failed)."""
        return max(0, self._ended.count - self.exporter.exported_spans)

    def _bounded(self, what: str, call: Callable[[], object], seconds: float) -> bool:
        """Run ``call`` in a daemon thread, wait at most ``seconds``; True if it finished and succeeded."""
        pending = self._pending
        if pending is not None and pending.is_alive():
            return False
        result: list[object] = [False]

        def run() -> None:
            try:
                result[0] = call()
            except Exception as exc:  # the exporter's own failure: counted by the undelivered spans
                logger.debug("pyagent-trace: %s of %s failed: %r", what, self.exporter.backend, exc)

        thread = threading.Thread(target=run, name=f"pyagent-trace {what}", daemon=True)
        thread.start()
        thread.join(seconds)
        if thread.is_alive():
            self._pending = thread
            return False
        return result[0] is None or bool(result[0])

    def _report(self, in_time: bool) -> None:
        lost = self.undelivered_spans
        if not lost:
            return
        why = (
            f"the backend did not answer within {self.shutdown_timeout:g} s"
            if not in_time
            else "the backend refused them or could not be reached"
        )
        logger.warning(
            "pyagent-trace: %d of %d span(s) for %s were not delivered at shutdown: %s. "
            "shutdown_timeout= or %s sets how long to wait.",
            lost,
            self._ended.count,
            self.exporter.backend,
            why,
            SHUTDOWN_TIMEOUT_ENV,
        )


_resolve = shutdown_timeout  # the function, under a name the provider's attribute does not shadow
