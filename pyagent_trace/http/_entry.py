"""One scrubbed HTTP interaction as one cassette line, with what the call meant and cost.

The entry carries everything the cost tracker, the span emitter and the CLI need at its
top level (model, canonical tokens, USD), so nothing downstream has to parse HTTP again;
the interaction itself stays under ``metadata["http"]``, last, for review and replay.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import baggage, trace

from pyagent_trace import _framework_agents as framework_agents
from pyagent_trace import attributes as attr
from pyagent_trace._recording import RecordEntry
from pyagent_trace._span_scope import AGENT_NAME, active_scope
from pyagent_trace._tokens import count_tokens
from pyagent_trace.http._convert import TIME_TO_FIRST_CHUNK
from pyagent_trace.http._matching import HTTP_INTERACTION
from pyagent_trace.http.providers import ProviderCall, Usage, parse_call
from pyagent_trace.pricing import PriceTable, call_cost, validate_usage

__all__ = ["build_entry", "current_agent_name"]

_USD_DECIMALS = 12


def current_agent_name() -> str:
    """The agent this call is made for, else "": the running ``traced_agent``, the current
    span's ``gen_ai.agent.name``, the agent an agent framework is running (openai-agents,
    pydantic-ai, a named LangChain run: ``_framework_agents``), the ``gen_ai.agent.name``
    OpenTelemetry baggage (pydantic-ai's instrumentation sets it), the open pyagent span.

    An SDK call made inside any of them is then costed to that agent.
    """
    running = AGENT_NAME.get()
    if running:
        return running
    named = _span_agent(trace.get_current_span())
    if named:
        return named
    framework_agents.enable()  # a framework imported since the cassette opened
    named = framework_agents.framework_agent_name()
    if named:
        return named
    carried = baggage.get_baggage(attr.GEN_AI_AGENT_NAME)
    if isinstance(carried, str) and carried:
        return carried
    scope = active_scope()
    return _span_agent(scope.span) if scope is not None else ""


def _span_agent(span: Any) -> str:
    attributes = getattr(span, "attributes", None)
    name = attributes.get(attr.GEN_AI_AGENT_NAME) if isinstance(attributes, Mapping) else None
    return name if isinstance(name, str) else ""


def _estimated(call: ProviderCall) -> Usage:
    """Token counts from the text when the provider reported none (a stream without
    ``stream_options.include_usage``): an estimate beats a silent zero."""
    prompt = sum(count_tokens(m["content"] if isinstance(m.get("content"), str) else str(m)) for m in call.messages)
    return Usage(prompt, count_tokens(call.text))


def build_entry(
    interaction: dict[str, Any],
    *,
    timestamp: float,
    duration_ms: float,
    prices: PriceTable,
    agent_name: str = "",
    first_chunk_ms: float | None = None,
) -> RecordEntry:
    """The ``http_interaction`` entry of one (already scrubbed) interaction; a streamed
    response keeps ``first_chunk_ms`` as its time to first chunk."""
    call = parse_call(interaction.get("request") or {}, interaction.get("response") or {})
    if call is None:  # not an LLM API call: kept for replay, costs nothing
        metadata: dict[str, Any] = {"provider": "", "operation": "", "http": interaction}
        return RecordEntry(HTTP_INTERACTION, agent_name=agent_name, timestamp=timestamp,
                           duration_ms=round(duration_ms, 3), metadata=metadata)  # fmt: skip
    status = (interaction.get("response") or {}).get("status")
    failed = isinstance(status, int) and status >= 400
    if call.usage is not None:
        usage, estimated = call.usage, False
    elif failed:  # an error response reports no usage and is not billed: nothing to estimate
        usage, estimated = Usage(0, 0), False
    else:
        usage, estimated = _estimated(call), True
    cost = (
        0.0
        if failed and call.usage is None
        else call_cost(
            prices,
            (call.response_model, call.request_model),
            validate_usage(usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens),
            provider=call.provider,
            at=timestamp,
        )
    )
    metadata = {
        "provider": call.provider,
        "operation": call.operation,
        "response_model": call.response_model,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    }
    # What the GenAI span reports of the response, read here once (a stream is parsed
    # only now): replaying the entry then costs dict lookups, not another parse.
    if usage.reasoning_tokens:
        metadata["reasoning_tokens"] = usage.reasoning_tokens
    if call.response_id:
        metadata["response_id"] = call.response_id
    if call.finish_reasons:
        metadata["finish_reasons"] = list(call.finish_reasons)
    if first_chunk_ms is not None and (interaction.get("response") or {}).get("sse_events"):
        metadata[TIME_TO_FIRST_CHUNK] = round(first_chunk_ms, 3)
    metadata["http"] = interaction
    return RecordEntry(
        HTTP_INTERACTION,
        agent_name=agent_name,
        model=call.request_model or call.response_model,
        timestamp=timestamp,
        duration_ms=round(duration_ms, 3),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        tokens=usage.input_tokens + usage.output_tokens,
        cost_usd=round(cost or 0.0, _USD_DECIMALS),
        tokens_estimated=estimated,
        priced=cost is not None,
        messages=call.messages,
        response=call.text,
        metadata=metadata,
    )
