"""Every span attribute key and span name pyagent-trace writes, spelled once.

The OpenTelemetry GenAI conventions (``gen_ai.*``) are still "Development" upstream and
get renamed (``gen_ai.system`` became ``gen_ai.provider.name``): a rename is a one-line
change here. Nothing else in the package spells an attribute key.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import os
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

    from opentelemetry.util.types import AttributeValue

# -- pyagent.* (the product docs' reference table) ---------------------------------------
PATTERN_TYPE: Final = "pyagent.pattern.type"
PATTERN_ROUNDS: Final = "pyagent.pattern.rounds"
AGENT_NAME: Final = "pyagent.agent.name"
AGENT_MODEL: Final = "pyagent.agent.model"
COST_PREFIX: Final = "pyagent.cost."
COST_INPUT_TOKENS: Final = "pyagent.cost.input_tokens"
COST_OUTPUT_TOKENS: Final = "pyagent.cost.output_tokens"
COST_TOTAL_USD: Final = "pyagent.cost.total_usd"
EXEC_DURATION_MS: Final = "pyagent.exec.duration_ms"
ROUTER_DIFFICULTY: Final = "pyagent.router.difficulty"
ROUTER_SELECTED_MODEL: Final = "pyagent.router.selected_model"
COMPRESS_SAVINGS_PCT: Final = "pyagent.compress.savings_pct"
EARLY_STOP: Final = "pyagent.early_stop"

# -- pyagent.* additions that the docs' table does not list --------------------------------
SERVICE_NAME: Final = "pyagent.service.name"
PATTERN_OUTPUT_LEN: Final = "pyagent.pattern.output_len"
COST_ESTIMATED: Final = "pyagent.cost.estimated"
"""True when token counts were estimated from text, not reported by the provider."""
COST_UNPRICED: Final = "pyagent.cost.unpriced"
"""True when the model is not in the price table: the USD figure is unknown, not zero."""

# -- OpenTelemetry GenAI semantic conventions (latest names) ------------------------------
# Checked against open-telemetry/semantic-conventions-genai (docs/gen-ai/client-inference.md,
# model/gen-ai/spans.yaml, changelog.d/440.breaking.md) and, where the name did not move,
# opentelemetry-semantic-conventions 0.66b2 (``_incubating/attributes/gen_ai_attributes.py``).
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
"""Set (True) only on streaming requests: unset means not streaming, per the conventions."""
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
"""Renamed from ``…cache_creation.input_tokens`` upstream (semantic-conventions-genai #440)."""
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD: Final = "gen_ai.usage.cache_creation.input_tokens"
"""The pre-rename key, written too only with ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai/dup``."""
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
"""A subset of ``gen_ai.usage.output_tokens``, as the conventions define it."""
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_WORKFLOW_NAME: Final = "gen_ai.workflow.name"

# gen_ai.operation.name values
OPERATION_CHAT: Final = "chat"
OPERATION_GENERATE_CONTENT: Final = "generate_content"
OPERATION_INVOKE_AGENT: Final = "invoke_agent"
OPERATION_INVOKE_WORKFLOW: Final = "invoke_workflow"

SEMCONV_OPT_IN_ENV: Final = "OTEL_SEMCONV_STABILITY_OPT_IN"
SEMCONV_GEN_AI_DUP: Final = "gen_ai/dup"
"""Opt-in value (as ``http/dup`` was for the HTTP migration): also write the previous names
of renamed GenAI attributes, for backends that read only those."""


@functools.cache
def cache_write_keys() -> tuple[str, ...]:
    """The keys cache-write tokens go under: the current name, plus the pre-rename one
    when ``OTEL_SEMCONV_STABILITY_OPT_IN`` lists ``gen_ai/dup``. Read once per process,
    as OpenTelemetry instrumentations read it (``cache_write_keys.cache_clear()`` to
    read it again)."""
    values = os.environ.get(SEMCONV_OPT_IN_ENV, "")
    if SEMCONV_GEN_AI_DUP in (v.strip() for v in values.split(",")):
        return (GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD)
    return (GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,)


# gen_ai.provider.name values (the conventions' well-known names)
PROVIDER_OPENAI: Final = "openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
_PROVIDER_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {"gemini": PROVIDER_GCP_GEMINI, "google": PROVIDER_GCP_GEMINI}
)


def provider_name(provider: str) -> str:
    """The conventions' ``gen_ai.provider.name`` for a provider as the HTTP parser or an
    event names it (``gemini`` is ``gcp.gemini``); other names pass through."""
    return _PROVIDER_ALIASES.get(provider, provider)


# -- exception / error attributes (OpenTelemetry general conventions) ---------------------
ERROR_TYPE: Final = "error.type"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
"""Written by ``Span.record_exception``; volatile (paths, line numbers), so normalisers hide it."""
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
"""On GenAI spans of HTTP-recorded calls (pyagent_trace.http); 4xx/5xx also set ``error.type``."""
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_EVENT: Final = "exception"
"""Span event name for an error reported by a bus event (no Python exception to record)."""

# -- attributes other libraries' spans carry that differ between runs or machines ---------
# (instrumented SDKs such as anthropic 2.x, pydantic-ai, LangChain); span snapshots mask them.
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
URL_FULL: Final = "url.full"
HTTP_URL: Final = "http.url"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"

# -- bus events mapped by OpenTelemetryBridge (pyagent_trace.exporters.otel) ---------------
PATTERN_TOKEN_ESTIMATE: Final = "pyagent.pattern.token_estimate"
COMPRESS_ORIGINAL_TOKENS: Final = "pyagent.compress.original_tokens"
COMPRESS_COMPRESSED_TOKENS: Final = "pyagent.compress.compressed_tokens"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
"""Opt-in (``capture_content=True``): prompts can hold personal data."""
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"

# -- OpenTelemetry resource attributes (exporter helpers) ----------------------------------
RESOURCE_SERVICE_NAME: Final = "service.name"
RESOURCE_SERVICE_VERSION: Final = "service.version"
RESOURCE_DEPLOYMENT_ENVIRONMENT: Final = "deployment.environment.name"
RESOURCE_DEPLOYMENT_ENVIRONMENT_OLD: Final = "deployment.environment"
"""Pre-1.27 name; Datadog's OTLP intake still reads it for the ``env`` tag."""

# -- free-form attributes passed as ``attributes={"topic": ...}`` (PatternSpanEmitter) ------
PATTERN_NAMESPACE: Final = "pyagent.pattern"
AGENT_NAMESPACE: Final = "pyagent.agent"
LLM_NAMESPACE: Final = "pyagent.llm"

SHORT_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "rounds": PATTERN_ROUNDS,
        "output_len": PATTERN_OUTPUT_LEN,
        "early_stop": EARLY_STOP,
        "difficulty": ROUTER_DIFFICULTY,
        "selected_model": ROUTER_SELECTED_MODEL,
        "savings_pct": COMPRESS_SAVINGS_PCT,
        "input_tokens": COST_INPUT_TOKENS,
        "output_tokens": COST_OUTPUT_TOKENS,
        "total_usd": COST_TOTAL_USD,
        "duration_ms": EXEC_DURATION_MS,
    }
)
"""Short keys users write (the docs pass ``{"rounds": 2}``) and the documented key each means."""


def qualify_attribute(key: str, namespace: str) -> str:
    """Full key for a user-given one: known short name, else ``namespace.key``; dotted keys stay.

    ``qualify_attribute("rounds", PATTERN_NAMESPACE)`` is ``pyagent.pattern.rounds`` and
    ``qualify_attribute("topic", PATTERN_NAMESPACE)`` is ``pyagent.pattern.topic``.
    """
    if "." in key:
        return key
    return SHORT_NAMES.get(key) or f"{namespace}.{key}"


# -- span names ---------------------------------------------------------------------------
INSTRUMENTATION_NAME: Final = "pyagent_trace"


def pattern_span_name(pattern_type: str) -> str:
    """GenAI convention for a pattern run (a workflow of agents):
    ``invoke_workflow {gen_ai.workflow.name}``, e.g. ``invoke_workflow debate``."""
    return f"{OPERATION_INVOKE_WORKFLOW} {pattern_type}"


def pattern_attributes(pattern_type: str) -> dict[str, AttributeValue]:
    """The start attributes of every pattern span: the docs' ``pyagent.pattern.type`` and
    the conventions' ``invoke_workflow`` operation, named by the pattern type."""
    return {
        PATTERN_TYPE: pattern_type,
        GEN_AI_OPERATION_NAME: OPERATION_INVOKE_WORKFLOW,
        GEN_AI_WORKFLOW_NAME: pattern_type,
    }


def agent_span_name(agent_name: str) -> str:
    """GenAI convention for agent spans: ``invoke_agent {gen_ai.agent.name}``."""
    return f"{OPERATION_INVOKE_AGENT} {agent_name}"


def llm_span_name(operation: str, model: str) -> str:
    """GenAI convention for inference spans: ``{gen_ai.operation.name} {gen_ai.request.model}``."""
    return f"{operation} {model}" if model else operation
