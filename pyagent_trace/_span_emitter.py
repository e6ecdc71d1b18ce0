"""PatternSpanEmitter: spans by hand, for code the decorators cannot wrap.

``pattern_span`` and ``agent_span`` return *started* spans that the caller ends (the
product docs end them in ``finally``). They are not made current; instead they are
remembered in a ContextVar so that agent spans started while they are open, in the same
task or in tasks it spawns, nest under them. ``pattern()`` / ``agent()`` are the
``with`` variants, where the span is current for the block.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from pyagent_trace import attributes as attr
from pyagent_trace._inference_span import InferenceCall, inference_attributes, inference_span_name
from pyagent_trace._span_scope import (
    SCOPE,
    Scope,
    Totals,
    active_scope,
    get_tracer,
    infer_provider,
    parent_context,
    record_error,
)
from pyagent_trace.pricing import DEFAULT_PRICES

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from opentelemetry.trace import Span, TracerProvider
    from opentelemetry.util.types import AttributeValue

    from pyagent_trace.pricing import PriceTable

__all__ = ["PatternSpanEmitter"]


class PatternSpanEmitter:
    """Start pattern, agent and LLM spans for one service.

    Args:
        service_name: written as ``pyagent.service.name`` on every span.
        tracer_provider: where spans go; the global provider when None.
        prices: price table for ``llm_span`` costs; the built-in one when None.
    """

    def __init__(
        self,
        service_name: str = "pyagent",
        *,
        tracer_provider: TracerProvider | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.service_name = service_name
        self._tracer = get_tracer(tracer_provider)
        self._prices = DEFAULT_PRICES if prices is None else prices

    # -- started spans (caller ends them) -------------------------------------------------
    def pattern_span(self, pattern_type: str, attributes: Mapping[str, Any] | None = None) -> Span:
        """A started pattern span; agent spans nest under it until it ends.

        Short keys in ``attributes`` are qualified: ``rounds`` becomes
        ``pyagent.pattern.rounds``, ``topic`` becomes ``pyagent.pattern.topic``.
        """
        attrs = self._base(attr.pattern_attributes(pattern_type), attributes, attr.PATTERN_NAMESPACE)
        return self._open(attr.pattern_span_name(pattern_type), attrs, Totals())

    def agent_span(
        self, agent_name: str, model: str | None = None, attributes: Mapping[str, Any] | None = None
    ) -> Span:
        """A started ``invoke_agent {name}`` span; LLM spans nest under it until it ends."""
        attrs = self._base(_agent_attributes(agent_name, model), attributes, attr.AGENT_NAMESPACE)
        return self._open(attr.agent_span_name(agent_name), attrs, None)

    def llm_span(
        self,
        model: str,
        provider: str | None = None,
        operation: str = attr.OPERATION_CHAT,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Span:
        """A started CLIENT span named ``{operation} {model}``, priced from the table.

        With both token counts and no ``cost_usd``, the cost comes from the price table;
        an unknown model gets ``pyagent.cost.unpriced`` instead of a made-up $0.
        """
        priced = True
        if cost_usd is None and input_tokens is not None and output_tokens is not None:
            cost_usd = self._prices.cost(model, input_tokens, output_tokens, provider=provider or None)
            priced = cost_usd is not None
        call = InferenceCall(
            operation=operation,
            provider=provider or infer_provider(model) or "",
            request_model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd,
            priced=priced,
        )
        attrs = self._base(inference_attributes(call), attributes, attr.LLM_NAMESPACE)
        name = inference_span_name(call)
        parent = parent_context(active_scope())
        return self._tracer.start_span(name, parent, SpanKind.CLIENT, attrs)

    def set_pattern_result(
        self,
        span: Span,
        output_len: int | None = None,
        rounds: int | None = None,
        cost_estimate: float | None = None,
        early_stop: bool | None = None,
        **extra: Any,
    ) -> None:
        """Write a pattern's outcome, plus the tokens and cost of the traced agents under it.

        ``cost_estimate`` overrides the agents' USD total unless it is 0.0, which is what
        pyagent-patterns reports when nothing priced the run. Extra keys are qualified
        like ``pattern_span`` attributes.
        """
        attrs: dict[str, AttributeValue] = {}
        scope = _find_scope(span)
        if scope is not None:  # found when called in the task that opened the span
            attrs[attr.EXEC_DURATION_MS] = (time.perf_counter_ns() - scope.started) / 1e6
            if scope.totals is not None:
                attrs.update(scope.totals.attributes())
        if output_len is not None:
            attrs[attr.PATTERN_OUTPUT_LEN] = output_len
        if rounds is not None:
            attrs[attr.PATTERN_ROUNDS] = rounds
        if cost_estimate:
            attrs[attr.COST_TOTAL_USD] = cost_estimate
            attrs.pop(attr.COST_UNPRICED, None)
        if early_stop is not None:
            attrs[attr.EARLY_STOP] = early_stop
        for key, value in extra.items():
            attrs[attr.qualify_attribute(key, attr.PATTERN_NAMESPACE)] = value
        span.set_attributes(attrs)

    def record_error(self, span: Span, exc: BaseException) -> None:
        """Status ERROR with the message, an exception event and ``error.type``."""
        record_error(span, exc)

    # -- with-blocks (span is current inside) ----------------------------------------------
    @contextlib.contextmanager
    def pattern(self, pattern_type: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Span]:
        """``with emitter.pattern("debate") as span:`` — ends the span, records errors."""
        attrs = self._base(attr.pattern_attributes(pattern_type), attributes, attr.PATTERN_NAMESPACE)
        with self._current(attr.pattern_span_name(pattern_type), attrs, Totals()) as span:
            yield span

    @contextlib.contextmanager
    def agent(
        self, agent_name: str, model: str | None = None, attributes: Mapping[str, Any] | None = None
    ) -> Iterator[Span]:
        """``with emitter.agent("judge", model=...) as span:`` — ends the span, records errors."""
        attrs = self._base(_agent_attributes(agent_name, model), attributes, attr.AGENT_NAMESPACE)
        with self._current(attr.agent_span_name(agent_name), attrs, None) as span:
            yield span

    # -- helpers ------------------------------------------------------------------------------
    def _base(
        self,
        known: dict[str, AttributeValue],
        extra: Mapping[str, Any] | None,
        namespace: str,
    ) -> dict[str, AttributeValue]:
        attrs: dict[str, AttributeValue] = {attr.SERVICE_NAME: self.service_name}
        attrs.update(known)
        for key, value in (extra or {}).items():
            attrs[attr.qualify_attribute(key, namespace)] = value
        return attrs

    def _open(self, name: str, attrs: dict[str, AttributeValue], totals: Totals | None) -> Span:
        scope = active_scope()
        span = self._tracer.start_span(name, parent_context(scope), attributes=attrs)
        SCOPE.set(Scope(span, scope, totals=totals, manual=True))
        return span

    @contextlib.contextmanager
    def _current(self, name: str, attrs: dict[str, AttributeValue], totals: Totals | None) -> Iterator[Span]:
        scope = active_scope()
        with self._tracer.start_as_current_span(
            name,
            parent_context(scope),
            attributes=attrs,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            opened = Scope(span, scope, totals=totals)
            token = SCOPE.set(opened)
            try:
                yield span
            except Exception as exc:
                record_error(span, exc)
                raise
            finally:
                SCOPE.reset(token)
                end: dict[str, AttributeValue] = {
                    attr.EXEC_DURATION_MS: (time.perf_counter_ns() - opened.started) / 1e6
                }
                if totals is not None:
                    end.update(totals.attributes())
                span.set_attributes(end)


def _agent_attributes(agent_name: str, model: str | None) -> dict[str, AttributeValue]:
    attrs: dict[str, AttributeValue] = {
        attr.AGENT_NAME: agent_name,
        attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INVOKE_AGENT,
        attr.GEN_AI_AGENT_NAME: agent_name,
    }
    if model:
        attrs[attr.AGENT_MODEL] = attrs[attr.GEN_AI_REQUEST_MODEL] = model
        provider = infer_provider(model)
        if provider:
            attrs[attr.GEN_AI_PROVIDER_NAME] = provider
    return attrs


def _find_scope(span: Span) -> Scope | None:
    scope = SCOPE.get()
    while scope is not None and scope.span is not span:
        scope = scope.parent
    return scope
