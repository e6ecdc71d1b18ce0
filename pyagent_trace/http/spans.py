"""What one HTTP cassette entry becomes downstream: a GenAI client span and a cost entry.

Both read only the entry's top-level fields and ``metadata`` (provider, operation,
cache tokens), so a recorded call and its replay produce the same span and the same
cost. The span's duration is the recorded one, so span trees stay stable across runs.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import time

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.span import Span
from opentelemetry.util.types import AttributeValue

from pyagent_trace import attributes as attr
from pyagent_trace._recording import RecordEntry
from pyagent_trace._span_scope import active_scope, get_tracer, parent_context
from pyagent_trace.cost import CostEntry, CostTracker

__all__ = ["emit_genai_span", "genai_attributes", "is_llm_entry", "record_cost"]

_PROVIDER_NAMES = {"openai": attr.PROVIDER_OPENAI, "anthropic": attr.PROVIDER_ANTHROPIC,
                   "gemini": attr.PROVIDER_GCP_GEMINI}  # fmt: skip
# The conventions name inference "chat" whatever the API; Gemini's is "generate_content".
_OPERATION_NAMES = {"chat": attr.OPERATION_CHAT, "responses": attr.OPERATION_CHAT,
                    "messages": attr.OPERATION_CHAT, "generate_content": attr.OPERATION_GENERATE_CONTENT}  # fmt: skip


def is_llm_entry(entry: RecordEntry) -> bool:
    """True for an HTTP entry that is a recognised provider call (others cost nothing)."""
    return bool(entry.metadata.get("provider")) and entry.metadata.get("operation") in _OPERATION_NAMES


def _status(entry: RecordEntry) -> int:
    http = entry.metadata.get("http")
    response = http.get("response") if isinstance(http, dict) else None
    status = response.get("status") if isinstance(response, dict) else None
    return status if isinstance(status, int) else 0


def genai_attributes(entry: RecordEntry) -> dict[str, AttributeValue]:
    """The span attributes of an LLM entry (see :func:`emit_genai_span`)."""
    meta = entry.metadata
    provider = str(meta.get("provider", ""))
    attrs: dict[str, AttributeValue] = {
        attr.GEN_AI_OPERATION_NAME: _OPERATION_NAMES.get(str(meta.get("operation")), attr.OPERATION_CHAT),
        attr.GEN_AI_PROVIDER_NAME: _PROVIDER_NAMES.get(provider, provider),
        attr.GEN_AI_REQUEST_MODEL: entry.model,
    }
    if meta.get("response_model"):
        attrs[attr.GEN_AI_RESPONSE_MODEL] = str(meta["response_model"])
    if entry.agent_name:
        attrs[attr.GEN_AI_AGENT_NAME] = entry.agent_name
    attrs[attr.GEN_AI_USAGE_INPUT_TOKENS] = attrs[attr.COST_INPUT_TOKENS] = entry.input_tokens
    attrs[attr.GEN_AI_USAGE_OUTPUT_TOKENS] = attrs[attr.COST_OUTPUT_TOKENS] = entry.output_tokens
    attrs[attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = int(meta.get("cache_read_tokens") or 0)
    attrs[attr.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = int(meta.get("cache_write_tokens") or 0)
    if entry.priced:
        attrs[attr.COST_TOTAL_USD] = entry.cost_usd
    else:
        attrs[attr.COST_UNPRICED] = True
    if entry.tokens_estimated:
        attrs[attr.COST_ESTIMATED] = True
    if _status(entry):
        attrs[attr.HTTP_RESPONSE_STATUS_CODE] = _status(entry)
    return attrs


def instrumented_call_span() -> Span | None:
    """The open inference span an instrumented SDK made for the call under way (anthropic
    2.x, pydantic-ai, …), or None: a recording CLIENT span of another library that carries
    ``gen_ai.operation.name``."""
    span = trace.get_current_span()
    if not span.is_recording() or getattr(span, "kind", None) is not SpanKind.CLIENT:
        return None
    scope = getattr(span, "instrumentation_scope", None)
    attributes = getattr(span, "attributes", None) or {}
    ours = scope is not None and scope.name == attr.INSTRUMENTATION_NAME
    return None if ours or attr.GEN_AI_OPERATION_NAME not in attributes else span


def emit_genai_span(
    entry: RecordEntry, tracer_provider: TracerProvider | None = None, *, end_time_ns: int | None = None
) -> Span | None:
    """Emit the ended GenAI CLIENT span of an HTTP entry, under the current span (or the
    open pyagent agent/pattern span); None for an entry that is not an LLM call, and when
    no tracer provider is set (nobody would see the span).

    Named ``"{gen_ai.operation.name} {model}"``; it ends at ``end_time_ns`` (default now)
    and lasts the recorded ``duration_ms``. A 4xx/5xx response sets status ERROR and
    ``error.type`` to the status code, as the OpenTelemetry HTTP conventions do.

    When an instrumented SDK already spans the call (see :func:`instrumented_call_span`),
    no second span is made, so backends do not count its tokens twice: that span gets the
    ``pyagent.cost.*`` attributes instead, and None is returned.
    """
    if not is_llm_entry(entry):
        return None
    provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None  # nobody collects spans: building one would only cost time
    attrs = genai_attributes(entry)
    theirs = instrumented_call_span()
    if theirs is not None:
        theirs.set_attributes({k: v for k, v in attrs.items() if k.startswith(attr.COST_PREFIX)})
        return None
    end = time.time_ns() if end_time_ns is None else end_time_ns
    start = end - round(entry.duration_ms * 1_000_000)
    name = attr.llm_span_name(str(attrs[attr.GEN_AI_OPERATION_NAME]), entry.model)
    tracer = get_tracer(provider)
    span = tracer.start_span(name, parent_context(active_scope()), SpanKind.CLIENT, attrs, start_time=start)
    status = _status(entry)
    if status >= 400:
        span.set_attribute(attr.ERROR_TYPE, str(status))
        span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
    span.end(end_time=end)
    return span


def record_cost(entry: RecordEntry, tracker: CostTracker) -> CostEntry | None:
    """Account an LLM entry to ``tracker`` with its cache tokens; None for other traffic."""
    return tracker.record_call(entry) if is_llm_entry(entry) else None
