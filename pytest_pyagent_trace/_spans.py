"""One TracerProvider for the whole session, spans routed to the test that is running.

OpenTelemetry allows one global provider per process, so the plugin installs (or joins)
it once and a span processor hands each finished span to the current test's in-memory
exporter. Nothing here is imported until a test asks for a span fixture.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pyagent_trace.exceptions import PyAgentTraceWarning
from pyagent_trace.testing import IncrementalIdGenerator, find_spans, spans_to_tree

__all__ = ["CapturedSpans", "SpanRouter", "SpanTree"]


class SpanRouter(SpanProcessor):
    """Sends each ended span to the exporter of the test that is running, if any."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: InMemorySpanExporter | None = None

    @classmethod
    def install(cls) -> SpanRouter:
        """Join the global SDK provider, or install one if none is set (only then)."""
        router = cls()
        provider = trace.get_tracer_provider()
        if isinstance(provider, TracerProvider):
            provider.add_span_processor(router)
            return router
        ours = TracerProvider(id_generator=IncrementalIdGenerator())
        ours.add_span_processor(router)
        trace.set_tracer_provider(ours)
        if trace.get_tracer_provider() is not ours:
            warnings.warn(
                "pyagent-trace could not install its TracerProvider: another non-SDK provider "
                f"({type(trace.get_tracer_provider()).__name__}) is set, so span fixtures see nothing.",
                PyAgentTraceWarning,
                stacklevel=2,
            )
        return router

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

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def _all(self) -> tuple[ReadableSpan, ...]:
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
    plain data; ``span_tree.value`` is the tree now.
    """

    def __init__(self, spans: CapturedSpans) -> None:
        self._spans = spans

    @property
    def value(self) -> list[dict[str, Any]]:
        return spans_to_tree(list(self._spans))

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
