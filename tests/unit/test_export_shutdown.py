"""Shutdown and exit wait for a dead backend at most ``shutdown_timeout``, then say what was lost."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from pyagent_trace.exceptions import ConfigError
from pyagent_trace.exporters._failsafe import (
    SHUTDOWN_TIMEOUT_ENV,
    BoundedTracerProvider,
    FailSafeSpanExporter,
    shutdown_timeout,
)


class HangingExporter(SpanExporter):
    """A backend that never answers (until released)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def export(self, spans):  # type: ignore[no-untyped-def]
        self.release.wait(30)
        return SpanExportResult.FAILURE


def test_the_timeout_comes_from_the_argument_then_the_environment_then_two_seconds(monkeypatch):
    monkeypatch.delenv(SHUTDOWN_TIMEOUT_ENV, raising=False)
    assert shutdown_timeout() == 2.0
    monkeypatch.setenv(SHUTDOWN_TIMEOUT_ENV, "0.25")
    assert shutdown_timeout() == 0.25
    assert shutdown_timeout(5) == 5.0


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_timeout_in_the_environment_is_one_clear_line(monkeypatch, value):
    monkeypatch.setenv(SHUTDOWN_TIMEOUT_ENV, value)
    with pytest.raises(ConfigError, match=f"{SHUTDOWN_TIMEOUT_ENV}=.*a number >= 0"):
        shutdown_timeout()


@pytest.mark.parametrize("value", [-0.5, True, "2"])
def test_a_bad_timeout_argument_is_refused(value):
    with pytest.raises(ConfigError, match="shutdown_timeout=: give the seconds"):
        shutdown_timeout(value)


def test_shutdown_against_a_hanging_backend_returns_in_time_and_says_what_was_dropped(caplog):
    backend = HangingExporter()
    failsafe = FailSafeSpanExporter(backend, "OTLP http://dead:4318")
    provider = BoundedTracerProvider(failsafe, shutdown_timeout=0.2)
    provider.add_span_processor(BatchSpanProcessor(failsafe))
    tracer = provider.get_tracer("t")
    for _ in range(3):
        tracer.start_span("s").end()
    try:
        with caplog.at_level(logging.WARNING, logger="pyagent_trace.exporters"):
            started = time.monotonic()
            assert provider.force_flush() is False  # waits 0.2 s, not for the backend
            provider.shutdown()  # the flush still hangs: no second wait
            took = time.monotonic() - started
    finally:
        backend.release.set()
    assert took < 0.2 + 0.5
    lines = [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]
    assert lines == [
        "pyagent-trace: 3 of 3 span(s) for OTLP http://dead:4318 were not delivered at shutdown: the backend "
        f"did not answer within 0.2 s. shutdown_timeout= or {SHUTDOWN_TIMEOUT_ENV} sets how long to wait."
    ]
