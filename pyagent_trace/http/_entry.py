"""One scrubbed HTTP interaction as one cassette line, with what the call meant and cost.

The entry carries everything the cost tracker, the span emitter and the CLI need at its
top level (model, canonical tokens, USD), so nothing downstream has to parse HTTP again;
the interaction itself stays under ``metadata["http"]``, last, for review and replay.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace

from pyagent_trace import attributes as attr
from pyagent_trace._recording import RecordEntry
from pyagent_trace._span_scope import AGENT_NAME, active_scope
from pyagent_trace._tokens import count_tokens
from pyagent_trace.http._matching import HTTP_INTERACTION
from pyagent_trace.http.providers import ProviderCall, Usage, parse_call
from pyagent_trace.pricing import PriceTable, call_cost, validate_usage

__all__ = ["build_entry", "current_agent_name"]

_USD_DECIMALS = 12


def current_agent_name() -> str:
    """The ``gen_ai.agent.name`` of the open agent span around this call, else "".

    An SDK call made inside ``traced_agent`` is then costed to that agent.
    """
    running = AGENT_NAME.get()
    if running:
        return running
    scope = active_scope()
    spans = [trace.get_current_span(), *([scope.span] if scope is not None else [])]
    for span in spans:
        attributes = getattr(span, "attributes", None)
        name = attributes.get(attr.GEN_AI_AGENT_NAME) if isinstance(attributes, Mapping) else None
        if isinstance(name, str) and name:
            return name
    return ""


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
) -> RecordEntry:
    """The ``http_interaction`` entry of one (already scrubbed) interaction."""
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
        "http": interaction,
    }
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
