"""The one builder of GenAI inference (``chat {model}``) span attributes.

Three sources describe an LLM call: an HTTP cassette entry (``pyagent_trace.http.spans``),
a bus event (``OpenTelemetryBridge``) and a span made by hand (``PatternSpanEmitter.llm_span``).
Each fills an :class:`InferenceCall` with what it knows; this module alone turns it into
attributes, so the three spans carry the same keys, written the same way: the
``gen_ai.*`` conventions (recommended attributes only when known) next to the
``pyagent.cost.*`` keys of the product docs.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyagent_trace import attributes as attr

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

__all__ = ["InferenceCall", "inference_attributes", "inference_span_name"]

_USD_DECIMALS = 12


@dataclass(slots=True)
class InferenceCall:
    """What is known of one LLM call; None (or empty) means unknown and is left out.

    ``priced=False`` marks the USD figure unknown (``pyagent.cost.unpriced``) instead of
    writing a made-up $0; ``stream`` is written only when True, as the conventions ask.
    Not ``frozen``: one is built per replayed call's span, and a frozen dataclass with
    this many fields took three times as long to build (bench/bench_genai_span.py).
    """

    operation: str = attr.OPERATION_CHAT
    provider: str = ""
    request_model: str = ""
    response_model: str = ""
    agent_name: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    priced: bool = True
    estimated: bool = False
    response_id: str = ""
    finish_reasons: tuple[str, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stream: bool = False
    time_to_first_chunk_s: float | None = None
    server_address: str = ""
    server_port: int | None = None


def inference_span_name(call: InferenceCall) -> str:
    """``{gen_ai.operation.name} {gen_ai.request.model}`` (the operation alone without a model)."""
    return attr.llm_span_name(call.operation, call.request_model)


def inference_attributes(call: InferenceCall) -> dict[str, AttributeValue]:
    """The span attributes of ``call``: conventions first, then the ``pyagent.cost.*`` mirror."""
    out: dict[str, AttributeValue] = {attr.GEN_AI_OPERATION_NAME: call.operation}
    if call.provider:
        out[attr.GEN_AI_PROVIDER_NAME] = call.provider
    if call.request_model:
        out[attr.GEN_AI_REQUEST_MODEL] = call.request_model
    if call.server_address:
        out[attr.SERVER_ADDRESS] = call.server_address
        if call.server_port is not None:
            out[attr.SERVER_PORT] = call.server_port
    _request(call, out)
    _response(call, out)
    _usage(call, out)
    return out


def _request(call: InferenceCall, out: dict[str, AttributeValue]) -> None:
    if call.max_tokens is not None:
        out[attr.GEN_AI_REQUEST_MAX_TOKENS] = call.max_tokens
    if call.temperature is not None:
        out[attr.GEN_AI_REQUEST_TEMPERATURE] = call.temperature
    if call.top_p is not None:
        out[attr.GEN_AI_REQUEST_TOP_P] = call.top_p
    if call.stream:
        out[attr.GEN_AI_REQUEST_STREAM] = True


def _response(call: InferenceCall, out: dict[str, AttributeValue]) -> None:
    if call.response_model:
        out[attr.GEN_AI_RESPONSE_MODEL] = call.response_model
    if call.response_id:
        out[attr.GEN_AI_RESPONSE_ID] = call.response_id
    if call.finish_reasons:
        out[attr.GEN_AI_RESPONSE_FINISH_REASONS] = list(call.finish_reasons)
    if call.time_to_first_chunk_s is not None:
        out[attr.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = call.time_to_first_chunk_s
    if call.agent_name:
        out[attr.GEN_AI_AGENT_NAME] = call.agent_name


def _usage(call: InferenceCall, out: dict[str, AttributeValue]) -> None:
    if call.input_tokens is not None:
        out[attr.GEN_AI_USAGE_INPUT_TOKENS] = out[attr.COST_INPUT_TOKENS] = call.input_tokens
    if call.output_tokens is not None:
        out[attr.GEN_AI_USAGE_OUTPUT_TOKENS] = out[attr.COST_OUTPUT_TOKENS] = call.output_tokens
    if call.cache_read_tokens is not None:
        out[attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = call.cache_read_tokens
    if call.cache_write_tokens is not None:
        for key in attr.cache_write_keys():
            out[key] = call.cache_write_tokens
    if call.reasoning_tokens:
        out[attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = call.reasoning_tokens
    if not call.priced:
        out[attr.COST_UNPRICED] = True
    elif call.cost_usd is not None:
        out[attr.COST_TOTAL_USD] = round(call.cost_usd, _USD_DECIMALS)
    if call.estimated:
        out[attr.COST_ESTIMATED] = True
