"""What one HTTP cassette entry becomes downstream: a GenAI client span and a cost entry.

Both read only the entry's top-level fields and ``metadata`` (provider, operation,
cache tokens), so a recorded call and its replay produce the same span and the same
cost. The span's duration is the recorded one, so span trees stay stable across runs.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import time
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.span import Span
from opentelemetry.util.types import AttributeValue

from pyagent_trace import attributes as attr
from pyagent_trace._inference_span import InferenceCall, inference_attributes
from pyagent_trace._recording import RecordEntry
from pyagent_trace._span_scope import active_scope, get_tracer, parent_context
from pyagent_trace.cost import CostEntry, CostTracker
from pyagent_trace.http._convert import TIME_TO_FIRST_CHUNK
from pyagent_trace.http.providers import request_params

__all__ = ["emit_genai_span", "genai_attributes", "is_llm_entry", "record_cost"]

_DEFAULT_PORTS = {"https": 443, "http": 80}
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


@functools.lru_cache(maxsize=256)  # one entry per endpoint: every replayed call asks again
def _server(url: str) -> tuple[str, int | None]:
    """``server.address`` / ``server.port`` of the request URL (the scheme's default port
    when the URL names none)."""
    try:
        parts = urlsplit(url)
        return parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a malformed port: the address alone is still worth reporting
        return "", None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def genai_attributes(entry: RecordEntry) -> dict[str, AttributeValue]:
    """The span attributes of an LLM entry (see :func:`emit_genai_span`): the recorded
    response's id, finish reasons and reasoning tokens (stored in ``metadata`` when the
    call was recorded) and the request's sampling parameters and server."""
    meta = entry.metadata
    provider = str(meta.get("provider", ""))
    http = meta.get("http")
    request = http.get("request") if isinstance(http, dict) else None
    request = request if isinstance(request, dict) else {}
    params = request_params(request)
    address, port = _server(str(request.get("url", "")))
    ttfc = meta.get(TIME_TO_FIRST_CHUNK)
    call = InferenceCall(
        operation=_OPERATION_NAMES.get(str(meta.get("operation")), attr.OPERATION_CHAT),
        provider=attr.provider_name(provider),
        request_model=entry.model,
        response_model=str(meta.get("response_model") or ""),
        agent_name=entry.agent_name,
        input_tokens=entry.input_tokens,
        output_tokens=entry.output_tokens,
        cache_read_tokens=int(meta.get("cache_read_tokens") or 0),
        cache_write_tokens=int(meta.get("cache_write_tokens") or 0),
        reasoning_tokens=int(meta.get("reasoning_tokens") or 0),
        cost_usd=entry.cost_usd,
        priced=entry.priced,
        estimated=entry.tokens_estimated,
        response_id=str(meta.get("response_id") or ""),
        finish_reasons=_strings(meta.get("finish_reasons")),
        max_tokens=params.max_tokens,
        temperature=params.temperature,
        top_p=params.top_p,
        stream=params.stream,
        time_to_first_chunk_s=ttfc / 1000 if isinstance(ttfc, int | float) and not isinstance(ttfc, bool) else None,
        server_address=address,
        server_port=port,
    )
    attrs = inference_attributes(call)
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
