"""OpenTelemetryBridge: TraceEventBus events in, OpenTelemetry span trees out.

pyagent-patterns emits flat events (``agent_start``, ``agent_end``…) with no run id, and
several runs may share a bus at once. The bridge keeps each run's open spans in a
ContextVar: the bus calls subscribers in the task or thread that emits, asyncio tasks
start from a copy of their parent's context and threads from their own, so two concurrent
runs build two trees while the agents a pattern gathers still nest under it. Spans take
the events' timestamps as start and end times.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
import time
import weakref
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, set_span_in_context

from pyagent_trace import attributes as attr
from pyagent_trace._span_scope import get_tracer
from pyagent_trace.exporters import _span_tree as tree
from pyagent_trace.exporters._base import ErrorPolicy
from pyagent_trace.exporters._span_tree import AGENT, LLM, PATTERN, SpanNode, active, ns
from pyagent_trace.pricing import price_table

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from opentelemetry.trace import TracerProvider
    from opentelemetry.util.types import AttributeValue

    from pyagent_trace.events import TraceEvent
    from pyagent_trace.pricing import PriceSpec, PriceTable

__all__ = ["OpenTelemetryBridge", "SpanNode"]

logger = logging.getLogger(__name__)

_EMPTY_CONTEXT = Context()
_ids = itertools.count(1)


class OpenTelemetryBridge:
    """Subscribe ``bridge.export_event`` to a bus to turn its events into spans.

    Args:
        tracer_provider: where spans go; the global provider when None.
        parent_from_context: start a run's root span under the *current* OpenTelemetry
            span (a web request, a ``traced_pattern``); False always starts a new trace.
        capture_content: write prompts and responses of ``llm_call`` events as
            ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (off: they may hold
            personal data).
        cost_records_as_llm_spans: also draw each ``cost_record`` of an agent whose
            LLM calls are not otherwise traced as a ``chat {model}`` client span.
        raise_errors: re-raise bridge errors (the project's own tests only).
        prices: for events that carry tokens but no cost: a ``PriceTable`` or overrides of
            the default prices, as ``CostTracker(prices=...)`` takes them.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        *,
        parent_from_context: bool = True,
        capture_content: bool = False,
        cost_records_as_llm_spans: bool = False,
        raise_errors: bool = False,
        prices: PriceTable | Mapping[str, PriceSpec] | None = None,
    ) -> None:
        self.tracer_provider = tracer_provider
        self._prices = price_table(prices)
        self._tracer = get_tracer(tracer_provider)
        self._parent_from_context = parent_from_context
        self._capture_content = capture_content
        self._cost_spans = cost_records_as_llm_spans
        self._errors = ErrorPolicy(logger, raise_errors=raise_errors)
        self._top: ContextVar[SpanNode | None] = ContextVar(f"pyagent_bridge_{next(_ids)}", default=None)
        self._lock = threading.Lock()
        self._open: dict[int, SpanNode] = {}
        self._handlers: dict[str, Callable[[TraceEvent], None]] = {
            "pattern_start": self._pattern_start,
            "pattern_end": self._pattern_end,
            "agent_start": self._agent_start,
            "agent_end": self._agent_end,
            "llm_call": self._llm_call,
            "provider_call_start": self._provider_start,
            "provider_call_end": self._provider_end,
            "provider_call_error": self._provider_end,
            "cost_record": self._cost_record,
            "compression": self._compression,
            "error": self._error,
        }
        method = weakref.WeakMethod(self._at_exit)
        self._exit_hook = lambda: (m := method()) is not None and m()
        atexit.register(self._exit_hook)

    # -- the subscriber ----------------------------------------------------------------
    def export_event(self, event: TraceEvent) -> None:
        """Map one event; never raises (a failure is logged once and counted)."""
        try:
            handler = self._handlers.get(event.event_type)
            if handler is not None:
                handler(event)
            elif "error" in event.payload:
                self._error(event)
        except Exception as exc:
            self._errors.handle(f"OpenTelemetryBridge on a {event.event_type!r} event", exc)

    @property
    def error_count(self) -> int:
        return self._errors.error_count

    # -- events --------------------------------------------------------------------------
    def _pattern_start(self, event: TraceEvent) -> None:
        pattern = event.pattern_type or "pattern"
        self._start(PATTERN, pattern, attr.pattern_span_name(pattern), attr.pattern_attributes(pattern), event)

    def _pattern_end(self, event: TraceEvent) -> None:
        node = self._find(PATTERN, event.pattern_type or "pattern")
        if node is not None:
            self._finish(node, event, tree.pattern_end_attributes(event.payload))

    def _agent_start(self, event: TraceEvent) -> None:
        attrs = tree.agent_attributes(event.agent_name, event.payload.get("model"), event.payload.get("provider"))
        self._start(AGENT, event.agent_name, attr.agent_span_name(event.agent_name), attrs, event)

    def _agent_end(self, event: TraceEvent) -> None:
        node = self._find(AGENT, event.agent_name)
        if node is not None:
            self._finish(node, event, tree.agent_end_attributes(event.payload))

    def _provider_start(self, event: TraceEvent) -> None:
        attrs = tree.llm_attributes(event.payload, capture_content=self._capture_content, prices=self._prices)
        key = str(event.payload.get("provider") or event.agent_name)
        name = _llm_span_name(attrs)
        self._start(LLM, key, name, attrs, event, SpanKind.CLIENT)

    def _provider_end(self, event: TraceEvent) -> None:
        node = self._find(LLM, str(event.payload.get("provider") or event.agent_name))
        if node is None:
            return
        attrs = tree.llm_attributes(event.payload, capture_content=self._capture_content, prices=self._prices)
        if "input_tokens" in event.payload:
            node.usage.add(tree.priced(event.payload, self._prices))
        self._finish(node, event, attrs)

    def _llm_call(self, event: TraceEvent) -> None:
        """An ``llm_call`` arrives after the call: the span ends at its timestamp."""
        end_ns = ns(event.timestamp)
        duration_ms = tree.duration_ms_of(event.payload) or 0.0
        attrs = tree.llm_attributes(event.payload, capture_content=self._capture_content, prices=self._prices)
        name = _llm_span_name(attrs)
        self._child_llm_span(event, name, attrs, end_ns - int(duration_ms * 1_000_000), end_ns)

    def _cost_record(self, event: TraceEvent) -> None:
        top = self._current()
        if top is None:
            return
        agent = top.find(AGENT, event.agent_name or None) or top.find(AGENT)
        if agent is None:  # a cost recorded by hand inside a pattern: count it there
            usage = tree.SpanTotals()
            usage.add(event.payload)
            with self._lock:
                top.add_to_patterns(usage)
            return
        with self._lock:
            agent.usage.add(event.payload)
        if self._cost_spans and not agent.llm_usage.calls:
            attrs = tree.llm_attributes(event.payload, capture_content=False, prices=self._prices)
            name = _llm_span_name(attrs)
            self._child_llm_span(event, name, attrs, agent.last_llm_end_ns, ns(event.timestamp), agent, False)

    def _compression(self, event: TraceEvent) -> None:
        top = self._current()
        node = top.find(AGENT, event.agent_name or None) if top is not None else None
        if node is not None:
            node.span.set_attributes(tree.agent_end_attributes(event.payload))

    def _error(self, event: TraceEvent) -> None:
        """An error report marks the innermost open span (the named agent's if open)."""
        top = self._current()
        if top is None:
            return
        node = (top.find(AGENT, event.agent_name) if event.agent_name else None) or top
        payload = event.payload
        if "error" not in payload and "exception" not in payload:
            payload = {**payload, "error": payload.get("message") or "an error event was reported"}
        tree.mark_error(node.span, payload, ns(event.timestamp))

    # -- span lifecycle ---------------------------------------------------------------------
    def _current(self) -> SpanNode | None:
        return active(self._top.get())

    def _find(self, kind: str, key: str) -> SpanNode | None:
        top = self._current()
        return top.find(kind, key) if top is not None else None

    def _context(self, parent: SpanNode | None) -> Context | None:
        if parent is not None:
            return set_span_in_context(parent.span)
        return None if self._parent_from_context else _EMPTY_CONTEXT

    def _start(
        self,
        kind: str,
        key: str,
        name: str,
        attrs: dict[str, AttributeValue],
        event: TraceEvent,
        span_kind: SpanKind = SpanKind.INTERNAL,
    ) -> None:
        top = self._current()
        stale = top.find(kind, key) if top is not None else None
        if top is not None and stale is not None:  # its end event never came: the run raised
            self._end_stale(top, stale.parent, event.timestamp)
            top = active(stale.parent)
        self._start_attributes(kind, name, top is None, attrs)
        start_ns = ns(event.timestamp)
        span = self._tracer.start_span(name, self._context(top), span_kind, attrs, start_time=start_ns)
        node = SpanNode(kind, key, span, top, start_ns)
        with self._lock:
            self._open[id(node)] = node
        self._top.set(node)

    def _child_llm_span(
        self,
        event: TraceEvent,
        name: str,
        attrs: dict[str, AttributeValue],
        start_ns: int,
        end_ns: int,
        parent: SpanNode | None = None,
        count: bool = True,
    ) -> None:
        parent = parent or self._current()
        self._start_attributes(LLM, name, parent is None, attrs)
        span = self._tracer.start_span(name, self._context(parent), SpanKind.CLIENT, attrs, start_time=start_ns)
        node = SpanNode(LLM, name, span, parent, start_ns)
        node.usage.add(tree.priced(event.payload, self._prices))
        if parent is not None:
            parent.last_llm_end_ns = max(end_ns, parent.last_llm_end_ns)
        self._end(node, end_ns, {}, event.payload if "error" in event.payload else None, count=count)

    def _finish(self, node: SpanNode, event: TraceEvent, attrs: dict[str, AttributeValue]) -> None:
        """End ``node`` on its end event, and whatever its run left open under it."""
        top = self._current()
        if top is not None and top is not node:
            self._end_stale(top, node, event.timestamp)
        if node.kind == PATTERN:
            with self._lock:
                orphans = [n for n in self._open.values() if n.is_under(node)]
            for orphan in orphans:
                self._end(orphan, ns(event.timestamp), {}, tree.UNFINISHED)
        error = event.payload if "error" in event.payload else None
        self._end(node, ns(event.timestamp), attrs, error)
        self._top.set(active(node.parent))

    def _end_stale(self, top: SpanNode, stop: SpanNode | None, timestamp: float) -> None:
        node: SpanNode | None = top
        while node is not None and node is not stop:
            self._end(node, ns(timestamp), {}, tree.UNFINISHED)
            node = node.parent

    def _end(
        self,
        node: SpanNode,
        end_ns: int,
        attrs: dict[str, AttributeValue],
        error: Any,
        count: bool = True,
    ) -> None:
        with self._lock:
            if node.closed:
                return
            node.closed = True
            self._open.pop(id(node), None)
            if node.kind == AGENT:  # cost_record events win; else the agent's LLM spans
                used = node.usage if node.usage.calls else node.llm_usage
                attrs.update(used.attributes(gen_ai=True))
                attrs.update(_missing_model(node, used))
                if node.parent is not None and used.calls:
                    node.parent.add_to_patterns(used)
            elif node.kind == PATTERN:
                attrs.update(node.usage.attributes(gen_ai=False))
            elif count and node.parent is not None and node.parent.kind == AGENT:
                node.parent.llm_usage.merge(node.usage)
        self._end_attributes(node, attrs)
        if attrs:
            node.span.set_attributes(attrs)
        if error is not None:
            tree.mark_error(node.span, error, end_ns)
        node.span.end(end_time=max(end_ns, node.start_ns))

    # -- hooks for backend-specific subclasses (Langfuse) -------------------------------------
    def _start_attributes(self, kind: str, name: str, root: bool, attrs: dict[str, AttributeValue]) -> None:
        """Add attributes to a span about to start; ``root`` when it starts a trace."""

    def _end_attributes(self, node: SpanNode, attrs: dict[str, AttributeValue]) -> None:
        """Add attributes to a span about to end (its usage is final)."""

    # -- flushing ------------------------------------------------------------------------------
    def end_open_spans(self, reason: str = "the run was still open") -> int:
        """End every span whose end event has not come (status ERROR with ``reason``)."""
        with self._lock:
            nodes = sorted(self._open.values(), key=lambda n: n.start_ns, reverse=True)
        now = time.time_ns()
        for node in nodes:
            self._end(node, now, {}, {"error": reason, "error_type": "Unfinished"})
        return len(nodes)

    def flush(self) -> bool:
        """Export what has ended so far (blocks up to the exporter's timeout)."""
        provider = self.tracer_provider or trace.get_tracer_provider()
        force_flush = getattr(provider, "force_flush", None)
        if force_flush is None:
            return True
        try:
            return bool(force_flush())
        except Exception as exc:
            self._errors.handle("OpenTelemetryBridge.flush", exc)
            return False

    def shutdown(self) -> bool:
        """End open spans and flush; the provider itself is the caller's to shut down."""
        atexit.unregister(self._exit_hook)
        self.end_open_spans("the bridge was shut down before the run finished")
        return self.flush()

    def _at_exit(self) -> None:
        self.end_open_spans("the process exited before the run finished")
        self.flush()


def _missing_model(node: SpanNode, used: tree.SpanTotals) -> dict[str, AttributeValue]:
    """Model and provider for an agent span that started without them (its ``agent_start``
    named no model): those of the calls it made, so the span still says what it ran on."""
    started: Mapping[str, Any] = getattr(node.span, "attributes", None) or {}
    if not used.model or attr.GEN_AI_REQUEST_MODEL in started:
        if used.provider and attr.GEN_AI_PROVIDER_NAME not in started:
            return {attr.GEN_AI_PROVIDER_NAME: attr.provider_name(used.provider)}
        return {}
    attrs = tree.agent_attributes(node.key, used.model, used.provider or None)
    return {k: v for k, v in attrs.items() if k not in started}


def _llm_span_name(attrs: Mapping[str, AttributeValue]) -> str:
    """``{gen_ai.operation.name} {gen_ai.request.model}`` of built inference attributes."""
    return attr.llm_span_name(str(attrs[attr.GEN_AI_OPERATION_NAME]), str(attrs.get(attr.GEN_AI_REQUEST_MODEL, "")))
