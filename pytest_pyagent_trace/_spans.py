"""One TracerProvider for the whole session, spans routed to the test that is running.

OpenTelemetry allows one global provider per process, so the plugin installs (or joins)
it once and a span processor hands each finished span to the current test's in-memory
exporter. Nothing here is imported until a test asks for a span fixture.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pyagent_trace.exceptions import PyAgentTraceError
from pyagent_trace.testing import IncrementalIdGenerator, find_spans, spans_to_tree

__all__ = ["CapturedSpans", "SpanCaptureError", "SpanRouter", "SpanTree"]

_DISABLED = (
    "pyagent-trace cannot capture spans: OTEL_SDK_DISABLED is set, which turns the OpenTelemetry SDK off, "
    "so no span is ever recorded and span fixtures would stay empty. Unset OTEL_SDK_DISABLED for runs "
    "that use spans, span_exporter or span_tree."
)


class SpanCaptureError(PyAgentTraceError, AssertionError):
    """Spans cannot be captured in this run; the message says why and what to do."""


def _sdk_disabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


class SpanRouter(SpanProcessor):
    """Sends each ended span to the exporter of the test that is running, if any."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: InMemorySpanExporter | None = None
        self.provider: object | None = None

    @classmethod
    def install(cls) -> SpanRouter:
        """Join the global provider when it takes span processors (the SDK's, logfire's),
        or install one if none is set (only then)."""
        router = cls()
        if _sdk_disabled():
            raise SpanCaptureError(_DISABLED)
        provider = trace.get_tracer_provider()
        if isinstance(provider, trace.ProxyTracerProvider):  # none set yet: ours becomes the global one
            ours = TracerProvider(id_generator=IncrementalIdGenerator())
            trace.set_tracer_provider(ours)
            provider = trace.get_tracer_provider()
        add = getattr(provider, "add_span_processor", None)
        if not callable(add):
            raise SpanCaptureError(
                f"pyagent-trace cannot capture spans: the global TracerProvider is a {type(provider).__name__}, "
                "which takes no span processors, so span fixtures would stay empty. Set an OpenTelemetry SDK "
                "TracerProvider (opentelemetry.sdk.trace.TracerProvider) as the global provider in conftest.py, "
                "or do not use span fixtures in this run."
            )
        add(router)
        router.provider = provider
        return router

    def check(self) -> None:
        """Fail loudly, instead of giving an empty span list, when spans cannot reach us."""
        if _sdk_disabled():
            raise SpanCaptureError(_DISABLED)
        current = trace.get_tracer_provider()
        if self.provider is not None and current is not self.provider:
            raise SpanCaptureError(
                f"pyagent-trace lost its span capture: the global TracerProvider was replaced by a "
                f"{type(current).__name__} after span fixtures joined the previous one, so spans go there. "
                "Install your provider once (conftest.py, before any test) and do not reset it inside tests; "
                "pyagent-trace then joins it."
            )

    def route_to(self, exporter: InMemorySpanExporter | None) -> None:
        with self._lock:
            self._current = exporter

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        exporter = self._current
        if exporter is not None:
            exporter.export((span,))

    def shutdown(self) -> None:
        self.route_to(None)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class CapturedSpans(Sequence[ReadableSpan]):
    """The current test's finished spans, read live, with finders."""

    def __init__(self, exporter: InMemorySpanExporter, router: SpanRouter | None = None) -> None:
        self.exporter = exporter
        self._router = router

    def _all(self) -> tuple[ReadableSpan, ...]:
        __tracebackhide__ = True
        if self._router is not None:
            self._router.check()
        return self.exporter.get_finished_spans()

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[ReadableSpan]:
        return iter(self._all())

    @property
    def names(self) -> list[str]:
        return [span.name for span in self._all()]

    def find(self, name: str | None = None, **attributes: Any) -> list[ReadableSpan]:
        """Spans by name and attributes: ``spans.find(**{"pyagent.agent.name": "bull"})``."""
        return find_spans(self._all(), name, **attributes)

    def one(self, name: str | None = None, **attributes: Any) -> ReadableSpan:
        """The single span that matches; fails listing what there is otherwise."""
        __tracebackhide__ = True
        found = self.find(name, **attributes)
        if len(found) != 1:
            wanted = ", ".join([*([f"name={name!r}"] if name else []), *(f"{k}={v!r}" for k, v in attributes.items())])
            msg = f"expected exactly one span with {wanted}, found {len(found)}; spans: {self.names}"
            raise AssertionError(msg)
        return found[0]

    def clear(self) -> None:
        self.exporter.clear()

    def __repr__(self) -> str:
        return f"<spans {self.names}>"


class SpanTree:
    """The test's spans as a normalised tree, computed when compared or read.

    ``span_tree == snapshot`` stores the tree with syrupy; ``span_tree == [...]`` compares
    plain data; ``span_tree.value`` is the tree now; ``span_tree.own`` keeps only
    pyagent-trace's spans (not those of instrumented SDKs and frameworks).
    """

    def __init__(self, spans: CapturedSpans, *, own_only: bool = False) -> None:
        self._spans = spans
        self._own_only = own_only

    @property
    def own(self) -> SpanTree:
        """The same tree with only pyagent-trace's own spans: ``assert span_tree.own == snapshot``."""
        return SpanTree(self._spans, own_only=True)

    @property
    def value(self) -> list[dict[str, Any]]:
        return spans_to_tree(list(self._spans), own_only=self._own_only)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SpanTree):
            return self.value == other.value
        result: bool = other == self.value  # syrupy's SnapshotAssertion does its work here
        return result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "\n".join(_render(self.value)) or "<no spans>"

    def __len__(self) -> int:
        return len(self.value)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.value[index]


def _render(nodes: list[dict[str, Any]], depth: int = 0) -> Iterator[str]:
    for node in nodes:
        yield f"{'  ' * depth}{node['name']} [{node['kind']}, {node['status']}]"
        yield from _render(node["children"], depth + 1)
