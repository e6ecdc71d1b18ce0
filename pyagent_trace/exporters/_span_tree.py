"""The pure part of the OpenTelemetry bridge: open-span nodes, usage sums, attribute maps.

Kept apart from ``otel.py`` so the mapping of event payloads to span attributes can be
read (and tested) without the ContextVar and span-lifecycle machinery around it.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import orjson
from opentelemetry.trace import Status, StatusCode

from pyagent_trace import attributes as attr
from pyagent_trace._inference_span import InferenceCall, inference_attributes
from pyagent_trace._messages import to_plain_messages
from pyagent_trace._span_scope import infer_provider
from pyagent_trace.pricing import DEFAULT_PRICES, PriceTable

if TYPE_CHECKING:
    from opentelemetry.trace import Span
    from opentelemetry.util.types import AttributeValue

__all__ = [
    "AGENT",
    "LLM",
    "PATTERN",
    "UNFINISHED",
    "SpanNode",
    "SpanTotals",
    "agent_attributes",
    "llm_attributes",
    "mark_error",
    "ns",
    "priced",
]

PATTERN: Final = "pattern"
AGENT: Final = "agent"
LLM: Final = "llm"

_USD_DECIMALS: Final = 12
_UNKNOWN_MODELS: Final = frozenset({"", "unknown", "default"})
_PATTERN_EXTRAS: Final = ("rounds", "early_stop", "difficulty", "selected_model", "savings_pct")
_COMPRESSION: Final = (
    ("savings_pct", attr.COMPRESS_SAVINGS_PCT),
    ("original_tokens", attr.COMPRESS_ORIGINAL_TOKENS),
    ("compressed_tokens", attr.COMPRESS_COMPRESSED_TOKENS),
)


def ns(seconds: float) -> int:
    """Event timestamps (``time.time()`` floats) as the integer nanoseconds spans take."""
    return int(seconds * 1_000_000_000)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int | float)


class SpanTotals:
    """Tokens and dollars of one span: its own calls, or everything under a pattern.

    ``usd`` stays None once one call is unpriced: the total is then unknown, not smaller.
    """

    __slots__ = ("calls", "estimated", "input_tokens", "model", "output_tokens", "provider", "unpriced", "usd")

    def __init__(self) -> None:
        self.calls = 0
        self.estimated = False
        self.input_tokens = 0
        self.output_tokens = 0
        self.unpriced = False
        self.usd = 0.0
        self.model = ""
        self.provider = ""

    def add(self, payload: Mapping[str, Any]) -> None:
        """Count one ``cost_record`` / ``llm_call`` payload (model, tokens, cost_usd, priced)."""
        self.calls += 1
        self.input_tokens += _int(payload.get("input_tokens"))
        self.output_tokens += _int(payload.get("output_tokens"))
        self.estimated = self.estimated or bool(payload.get("tokens_estimated"))
        model = payload.get("model")
        if isinstance(model, str) and model not in _UNKNOWN_MODELS:
            self.model = model
        provider = payload.get("provider")
        if isinstance(provider, str) and provider:
            self.provider = provider
        cost = payload.get("cost_usd")
        if payload.get("priced") is False or not isinstance(cost, int | float):
            self.unpriced = True
        else:
            self.usd += float(cost)

    def merge(self, other: SpanTotals) -> None:
        self.model = other.model or self.model
        self.provider = other.provider or self.provider
        self.calls += other.calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.estimated = self.estimated or other.estimated
        self.unpriced = self.unpriced or other.unpriced
        self.usd += other.usd

    def attributes(self, *, gen_ai: bool) -> dict[str, AttributeValue]:
        """``pyagent.cost.*`` (and ``gen_ai.usage.*`` when ``gen_ai``); nothing without calls."""
        if not self.calls:
            return {}
        out: dict[str, AttributeValue] = {
            attr.COST_INPUT_TOKENS: self.input_tokens,
            attr.COST_OUTPUT_TOKENS: self.output_tokens,
        }
        if gen_ai:
            out[attr.GEN_AI_USAGE_INPUT_TOKENS] = self.input_tokens
            out[attr.GEN_AI_USAGE_OUTPUT_TOKENS] = self.output_tokens
        if self.unpriced:
            out[attr.COST_UNPRICED] = True
        else:
            out[attr.COST_TOTAL_USD] = round(self.usd, _USD_DECIMALS)
        if self.estimated:
            out[attr.COST_ESTIMATED] = True
        return out


class SpanNode:
    """One open span of a run, linked to its parent; what subclass hooks receive.

    ``usage`` is the span's own: an LLM call's tokens, an agent's ``cost_record`` events,
    a pattern's totals. ``llm_usage`` sums an agent's LLM spans, used when no
    ``cost_record`` came (so a call is never counted twice).
    """

    __slots__ = ("closed", "key", "kind", "last_llm_end_ns", "llm_usage", "parent", "span", "start_ns", "usage")

    def __init__(self, kind: str, key: str, span: Span, parent: SpanNode | None, start_ns: int) -> None:
        self.kind = kind
        self.key = key
        self.span = span
        self.parent = parent
        self.start_ns = start_ns
        self.last_llm_end_ns = start_ns
        self.closed = False
        self.usage = SpanTotals()
        self.llm_usage = SpanTotals()

    def find(self, kind: str, key: str | None = None) -> SpanNode | None:
        """The innermost open node of ``kind`` (and ``key``) from here up, or None."""
        node: SpanNode | None = self
        while node is not None:
            if not node.closed and node.kind == kind and (key is None or node.key == key):
                return node
            node = node.parent
        return None

    def add_to_patterns(self, usage: SpanTotals) -> None:
        """Count ``usage`` in every open pattern from here up (nested patterns included)."""
        node: SpanNode | None = self
        while node is not None:
            if node.kind == PATTERN and not node.closed:
                node.usage.merge(usage)
            node = node.parent

    def is_under(self, ancestor: SpanNode) -> bool:
        node = self.parent
        while node is not None and node is not ancestor:
            node = node.parent
        return node is ancestor


def active(node: SpanNode | None) -> SpanNode | None:
    """Skip nodes already ended (by an enclosing end event or ``end_open_spans``)."""
    while node is not None and node.closed:
        node = node.parent
    return node


def agent_attributes(agent_name: str, model: Any, provider: Any = None) -> dict[str, AttributeValue]:
    """Same keys as ``PatternSpanEmitter.agent_span``; the provider is the one given (an
    event's ``provider``, an LLM call's) or else guessed from the model."""
    attrs: dict[str, AttributeValue] = {
        attr.AGENT_NAME: agent_name,
        attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INVOKE_AGENT,
        attr.GEN_AI_AGENT_NAME: agent_name,
    }
    known = isinstance(model, str) and model not in _UNKNOWN_MODELS
    if known:
        attrs[attr.AGENT_MODEL] = attrs[attr.GEN_AI_REQUEST_MODEL] = model
    name = _provider(provider, model if known else "")
    if name:
        attrs[attr.GEN_AI_PROVIDER_NAME] = name
    return attrs


def _provider(provider: Any, model: str) -> str:
    if isinstance(provider, str) and provider:
        return attr.provider_name(provider)
    return infer_provider(model) or ""


def _optional_int(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _optional_float(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) else None


def _finish_reasons(payload: Mapping[str, Any]) -> tuple[str, ...]:
    reasons = payload.get("finish_reasons", payload.get("finish_reason"))
    if isinstance(reasons, str):
        return (reasons,) if reasons else ()
    return tuple(r for r in reasons if isinstance(r, str)) if isinstance(reasons, list | tuple) else ()


def llm_attributes(
    payload: Mapping[str, Any], *, capture_content: bool, prices: PriceTable = DEFAULT_PRICES
) -> dict[str, AttributeValue]:
    """A GenAI client span's attributes from an ``llm_call`` / ``provider_call_*`` payload.

    Without ``cost_usd`` the price table prices the call; an unknown model is marked
    ``pyagent.cost.unpriced`` instead of costing $0. Optional payload keys the conventions
    name are passed on when present: ``response_id``, ``finish_reasons`` (or one
    ``finish_reason``), ``max_tokens``, ``temperature``, ``top_p``, ``stream``,
    ``cache_read_tokens``, ``cache_write_tokens``, ``reasoning_tokens``.
    """
    model = str(payload.get("model") or "")
    usage = SpanTotals()
    if "input_tokens" in payload or "output_tokens" in payload:
        usage.add(priced(payload, prices))
    counted = bool(usage.calls)
    call = InferenceCall(
        operation=str(payload.get("operation") or attr.OPERATION_CHAT),
        provider=_provider(payload.get("provider"), model),
        request_model=model,
        input_tokens=usage.input_tokens if counted else None,
        output_tokens=usage.output_tokens if counted else None,
        cache_read_tokens=_optional_int(payload.get("cache_read_tokens")),
        cache_write_tokens=_optional_int(payload.get("cache_write_tokens")),
        reasoning_tokens=_optional_int(payload.get("reasoning_tokens")),
        cost_usd=usage.usd if counted else None,
        priced=not usage.unpriced,
        estimated=usage.estimated,
        response_id=str(payload.get("response_id") or ""),
        finish_reasons=_finish_reasons(payload),
        max_tokens=_optional_int(payload.get("max_tokens")),
        temperature=_optional_float(payload.get("temperature")),
        top_p=_optional_float(payload.get("top_p")),
        stream=payload.get("stream") is True,
    )
    attrs = inference_attributes(call)
    duration_ms = duration_ms_of(payload)
    if duration_ms is not None:
        attrs[attr.EXEC_DURATION_MS] = duration_ms
    if capture_content:
        if "messages" in payload:
            attrs[attr.GEN_AI_INPUT_MESSAGES] = _json(to_plain_messages(payload["messages"]))
        if isinstance(payload.get("response"), str):
            attrs[attr.GEN_AI_OUTPUT_MESSAGES] = _json([{"role": "assistant", "content": payload["response"]}])
    return attrs


def priced(payload: Mapping[str, Any], prices: PriceTable = DEFAULT_PRICES) -> Mapping[str, Any]:
    """``payload`` with a ``cost_usd`` from ``prices`` when it has none (None if unknown)."""
    if isinstance(payload.get("cost_usd"), int | float) or payload.get("priced") is False:
        return payload
    model = str(payload.get("model") or "")
    try:
        provider = payload.get("provider")
        cost = prices.cost(model, _int(payload.get("input_tokens")), _int(payload.get("output_tokens")),
                           provider=provider if isinstance(provider, str) else None)  # fmt: skip
    except (TypeError, ValueError):  # negative or odd token counts: report them unpriced
        cost = None
    return {**payload, "cost_usd": cost}


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def duration_ms_of(payload: Mapping[str, Any]) -> float | None:
    value = payload.get("duration_ms")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    seconds = payload.get("duration_seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return float(seconds) * 1000
    return None


def pattern_end_attributes(payload: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """``pattern_end``: duration, output length, token estimate, documented extras (rounds…)."""
    attrs: dict[str, AttributeValue] = {}
    duration_ms = duration_ms_of(payload)
    if duration_ms is not None:
        attrs[attr.EXEC_DURATION_MS] = duration_ms
    if "output_length" in payload:
        attrs[attr.PATTERN_OUTPUT_LEN] = _int(payload["output_length"])
    if "token_estimate" in payload:
        attrs[attr.PATTERN_TOKEN_ESTIMATE] = _int(payload["token_estimate"])
    for key in _PATTERN_EXTRAS:
        if _scalar(payload.get(key)):
            attrs[attr.qualify_attribute(key, attr.PATTERN_NAMESPACE)] = payload[key]
    return attrs


def agent_end_attributes(payload: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """``agent_end`` / ``compression``: duration and compression figures."""
    attrs: dict[str, AttributeValue] = {}
    duration_ms = duration_ms_of(payload)
    if duration_ms is not None:
        attrs[attr.EXEC_DURATION_MS] = duration_ms
    for key, name in _COMPRESSION:
        if _scalar(payload.get(key)):
            attrs[name] = payload[key]
    return attrs


UNFINISHED: Final = {"error": "its end event never came: the run raised or was cancelled", "error_type": "Unfinished"}


def mark_error(span: Span, error: Any, timestamp_ns: int) -> None:
    """Status ERROR, ``error.type`` and an ``exception`` event, from a payload or exception."""
    error_type = "Error"
    if isinstance(error, dict):
        error_type = str(error.get("error_type") or "Error")
        error = error.get("exception") or error.get("error")
    if isinstance(error, BaseException):
        span.record_exception(error, timestamp=timestamp_ns)
        error_type, message = type(error).__qualname__, str(error)
    else:
        message = str(error)
        event_attrs = {attr.EXCEPTION_TYPE: error_type, attr.EXCEPTION_MESSAGE: message}
        span.add_event(attr.EXCEPTION_EVENT, event_attrs, timestamp=timestamp_ns)
    span.set_status(Status(StatusCode.ERROR, f"{error_type}: {message}"))
    span.set_attribute(attr.ERROR_TYPE, error_type)
