"""Every span kind pyagent-trace emits follows the OpenTelemetry GenAI conventions.

Two checks: ``pytest-genai-semconv`` (operation names, provider names, value types and the
required attributes of each span type, from the conventions' repository) and our own,
that every ``gen_ai.*`` key we write is a name the conventions define (the installed
opentelemetry-semantic-conventions package, plus the names renamed upstream since it was
released). The recommended inference attributes are checked on real provider responses
(shared/real-traffic), streamed and not.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import real_traffic
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as semconv
from opentelemetry.trace import SpanKind
from pytest_genai_semconv import (
    assert_chat_span,
    assert_genai_span_compliant,
    assert_invoke_agent_span,
)

from pyagent_trace import attributes as attr
from pyagent_trace.events import TraceEvent
from pyagent_trace.exporters.otel import OpenTelemetryBridge
from pyagent_trace.http import HttpCassette, emit_genai_span
from pyagent_trace.http._entry import build_entry
from pyagent_trace.pricing import DEFAULT_PRICES
from pyagent_trace.spans import PatternSpanEmitter, traced_agent, traced_pattern
from pyagent_trace.testing import InMemorySpanExporter, make_test_tracer_provider, spans_to_tree

# gen_ai.* names the conventions define: the installed package's, and those renamed in
# open-telemetry/semantic-conventions-genai after it (changelog.d/440.breaking.md).
KNOWN_GEN_AI = {value for name, value in vars(semconv).items() if name.startswith("GEN_AI_") and isinstance(value, str)}
KNOWN_GEN_AI |= {attr.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS}
OTHER_CONVENTIONS = {attr.SERVER_ADDRESS, attr.SERVER_PORT, attr.ERROR_TYPE, attr.HTTP_RESPONSE_STATUS_CODE}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter):
    return make_test_tracer_provider(exporter)


def assert_conventional(span: ReadableSpan) -> None:
    """pytest-genai-semconv's checks, and only known names outside ``pyagent.*``."""
    assert_genai_span_compliant(span)
    foreign = {key for key in span.attributes or {} if not key.startswith("pyagent.")}
    unknown = foreign - KNOWN_GEN_AI - OTHER_CONVENTIONS
    assert not unknown, f"{span.name}: attributes no convention defines: {sorted(unknown)}"


def entry_of(recorded: dict[str, Any], first_chunk_ms: float | None = None):
    return build_entry(real_traffic.as_interaction(recorded), timestamp=0.0, duration_ms=12.5,
                       prices=DEFAULT_PRICES, first_chunk_ms=first_chunk_ms)  # fmt: skip


def emitted(entry, provider, exporter) -> ReadableSpan:
    emit_genai_span(entry, provider)
    (span,) = exporter.get_finished_spans()
    return span


# -- inference spans on real responses -----------------------------------------------------
@pytest.mark.parametrize(
    "row", real_traffic.index(), ids=lambda row: row["file"].rsplit("/", 1)[-1].removesuffix(".json")
)
def test_an_http_call_span_carries_the_recommended_attributes_of_its_real_response(row, provider, exporter):
    recorded = real_traffic.load(row["file"])
    span = emitted(entry_of(recorded), provider, exporter)
    attrs = span.attributes or {}
    assert span.kind is SpanKind.CLIENT
    assert_conventional(span)
    if attrs[attr.GEN_AI_OPERATION_NAME] == "chat":
        assert_chat_span(span, request_model=recorded["request"]["body"].get("model"))
    request, response = recorded["request"], recorded["response"]
    assert attrs[attr.SERVER_ADDRESS] == httpx.URL(request["url"]).host
    assert attrs[attr.SERVER_PORT] == 443
    assert attrs.get(attr.GEN_AI_REQUEST_STREAM, False) is row["stream"]
    limit = request["body"].get("max_tokens", request["body"].get("max_completion_tokens"))
    assert attrs.get(attr.GEN_AI_REQUEST_MAX_TOKENS) == limit
    assert attrs[attr.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] == (recorded["expected_usage"]["cache_write_tokens"] or 0)
    assert attrs.get(attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS) == (
        recorded["expected_usage"]["reasoning_tokens"] or None
    )
    if row["error"]:
        assert attr.GEN_AI_RESPONSE_ID not in attrs
        return
    body = response.get("body") or {}
    if not row["stream"]:
        assert attrs[attr.GEN_AI_RESPONSE_ID] == body.get("id", body.get("responseId"))
    assert attrs[attr.GEN_AI_RESPONSE_ID]
    finish = attrs.get(attr.GEN_AI_RESPONSE_FINISH_REASONS)
    assert finish or "groq_chat_stream_01" in row["file"]  # that stream ends in an error event
    assert all(isinstance(reason, str) and reason for reason in finish or ())


def test_responses_sampling_parameters_and_streams_come_from_each_providers_request_shape(provider, exporter):
    """max_output_tokens (Responses), generationConfig (Gemini) and the stream flag of each API."""
    gemini = real_traffic.load("google_gemini_stream_01.json")
    gemini["request"]["body"]["generationConfig"].update(maxOutputTokens=50, topP=0.9)
    attrs = emitted(entry_of(gemini), provider, exporter).attributes or {}
    assert (attrs[attr.GEN_AI_REQUEST_MAX_TOKENS], attrs[attr.GEN_AI_REQUEST_TEMPERATURE]) == (50, 0.0)
    assert (attrs[attr.GEN_AI_REQUEST_TOP_P], attrs[attr.GEN_AI_REQUEST_STREAM]) == (0.9, True)
    assert attrs[attr.GEN_AI_RESPONSE_FINISH_REASONS] == ("STOP",)
    assert attrs[attr.GEN_AI_PROVIDER_NAME] == "gcp.gemini"
    exporter.clear()
    responses = real_traffic.load("openai_responses_stream_01.json")
    responses["request"]["body"].update(max_output_tokens=300, temperature=0.2)
    attrs = emitted(entry_of(responses), provider, exporter).attributes or {}
    assert (attrs[attr.GEN_AI_REQUEST_MAX_TOKENS], attrs[attr.GEN_AI_REQUEST_TEMPERATURE]) == (300, 0.2)
    assert attrs[attr.GEN_AI_RESPONSE_FINISH_REASONS] == ("completed",)
    assert attrs[attr.GEN_AI_RESPONSE_ID].startswith("resp_")


def test_a_recorded_streams_time_to_first_chunk_is_on_its_span_in_seconds_and_masked_in_trees(provider, exporter):
    span = emitted(entry_of(real_traffic.load("anthropic_messages_stream_02.json"), 250.0), provider, exporter)
    assert span.attributes[attr.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] == 0.25
    (node,) = spans_to_tree([span])
    volatile = (
        attr.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
        attr.GEN_AI_RESPONSE_ID,
        attr.SERVER_ADDRESS,
        attr.SERVER_PORT,
    )
    assert {key: node["attributes"][key] for key in volatile} == {
        attr.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: "<duration>",
        attr.GEN_AI_RESPONSE_ID: "<response.id>",
        attr.SERVER_ADDRESS: "<server.address>",
        attr.SERVER_PORT: "<server.port>",
    }


def test_a_whole_response_has_no_time_to_first_chunk(provider, exporter):
    span = emitted(entry_of(real_traffic.load("openai_chat_nonstream_02.json"), 250.0), provider, exporter)
    assert attr.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in (span.attributes or {})


def test_httpx_recording_measures_the_first_chunk_and_replay_reports_the_recorded_value(provider, exporter):
    stream = real_traffic.as_interaction(real_traffic.load("openai_chat_stream_03.json"))

    def handler(request: httpx.Request) -> httpx.Response:
        chunks = [event.encode() for event in stream["response"]["sse_events"]]
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=httpx.ByteStream(b"".join(chunks))
        )

    body = stream["request"]["body"]
    with HttpCassette([], mode="all") as recording, httpx.Client(transport=httpx.MockTransport(handler)) as client:
        client.post("https://api.openai.com/v1/chat/completions", json=body).read()
    (entry,) = recording.recorded
    assert 0 <= entry.metadata["time_to_first_chunk_ms"] <= entry.duration_ms
    replay = HttpCassette([entry], mode="none", on_replay=lambda e: emit_genai_span(e, provider))
    with replay, httpx.Client(transport=httpx.MockTransport(handler)) as client:
        client.post("https://api.openai.com/v1/chat/completions", json=body).read()
    (span,) = exporter.get_finished_spans()
    assert span.attributes[attr.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] == entry.metadata["time_to_first_chunk_ms"] / 1000


def test_a_re_record_that_changes_only_the_time_to_first_chunk_keeps_the_stored_line():
    """Like ``duration_ms``, the time to first chunk differs on every run: not a change."""
    from pyagent_trace.cassette._file import _stabilised

    recorded = real_traffic.load("openai_chat_stream_01.json")
    old, new = entry_of(recorded, 120.0), entry_of(recorded, 95.5)
    assert _stabilised([new], [old]) == [old]
    changed = real_traffic.load("openai_chat_stream_01.json")
    changed["request"]["body"]["temperature"] = 0.5
    assert _stabilised([entry_of(changed, 95.5)], [old])[0] is not old


def test_cache_writes_use_the_current_name_and_the_old_one_only_on_opt_in(provider, exporter, monkeypatch):
    entry = entry_of(real_traffic.load("anthropic_messages_nonstream_01.json"))
    assert attr.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD not in (
        emitted(entry, provider, exporter).attributes or {}
    )
    exporter.clear()
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http, gen_ai/dup")
    attr.cache_write_keys.cache_clear()  # read once per process, like OpenTelemetry's instrumentations
    try:
        attrs = emitted(entry, provider, exporter).attributes or {}
    finally:
        monkeypatch.undo()
        attr.cache_write_keys.cache_clear()
    assert attrs[attr.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD] == attrs[attr.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]


def test_a_cassette_calls_bus_event_carries_the_response_details_to_the_bridges_span(tmp_path, provider, exporter):
    """The LLM-level path: ``Cassette.account`` → ``llm_call`` event → bridge CLIENT span."""
    from pyagent_trace.cassette import Cassette
    from pyagent_trace.events import TraceEventBus

    bus = TraceEventBus(raise_errors=True)
    bus.subscribe(OpenTelemetryBridge(provider, raise_errors=True).export_event)
    entry = entry_of(real_traffic.load("google_gemini_stream_01.json"))
    Cassette(tmp_path / "c.jsonl", bus=bus).account(entry, replayed=True)
    (span,) = exporter.get_finished_spans()
    assert_conventional(span)
    attrs = span.attributes or {}
    assert (attrs[attr.GEN_AI_PROVIDER_NAME], attrs[attr.GEN_AI_RESPONSE_ID]) == (
        "gcp.gemini",
        entry.metadata["response_id"],
    )
    assert attrs[attr.GEN_AI_RESPONSE_FINISH_REASONS] == ("STOP",)
    assert attrs[attr.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] == 0


# -- agent, workflow and bridge spans --------------------------------------------------------
def test_every_span_the_bridge_builds_is_conventional_and_agents_know_their_provider_and_model(provider, exporter):
    bridge = OpenTelemetryBridge(provider, raise_errors=True)
    now = time.time()
    events = [
        TraceEvent(now, "pattern_start", "", "debate", {}),
        TraceEvent(now + 0.1, "agent_start", "bull", "debate", {}),  # no model: learnt from its calls
        TraceEvent(now + 0.4, "llm_call", "bull", "debate",
                   {"model": "gemini-2.5-flash", "provider": "gemini", "input_tokens": 40, "output_tokens": 9,
                    "duration_ms": 200, "response_id": "r-1", "finish_reason": "STOP", "temperature": 0.7}),
        TraceEvent(now + 0.5, "agent_end", "bull", "debate", {}),
        TraceEvent(now + 0.6, "agent_start", "judge", "debate", {"model": "claude-sonnet-4-20250514"}),
        TraceEvent(now + 0.7, "agent_end", "judge", "debate", {}),
        TraceEvent(now + 0.8, "pattern_end", "", "debate", {"rounds": 1}),
    ]  # fmt: skip
    for event in events:
        bridge.export_event(event)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"invoke_workflow debate", "invoke_agent bull", "chat gemini-2.5-flash", "invoke_agent judge"}
    for span in spans.values():
        assert_conventional(span)
    bull, judge = spans["invoke_agent bull"].attributes, spans["invoke_agent judge"].attributes
    assert (bull[attr.GEN_AI_PROVIDER_NAME], bull[attr.GEN_AI_REQUEST_MODEL]) == ("gcp.gemini", "gemini-2.5-flash")
    assert (judge[attr.GEN_AI_PROVIDER_NAME], judge[attr.GEN_AI_REQUEST_MODEL]) == (
        "anthropic",
        "claude-sonnet-4-20250514",
    )
    chat = spans["chat gemini-2.5-flash"].attributes
    assert (chat[attr.GEN_AI_RESPONSE_ID], chat[attr.GEN_AI_RESPONSE_FINISH_REASONS]) == ("r-1", ("STOP",))
    assert chat[attr.GEN_AI_REQUEST_TEMPERATURE] == 0.7
    workflow = spans["invoke_workflow debate"]
    assert workflow.kind is SpanKind.INTERNAL
    assert (workflow.attributes[attr.GEN_AI_WORKFLOW_NAME], workflow.attributes[attr.PATTERN_TYPE]) == (
        "debate",
        "debate",
    )
    assert workflow.attributes[attr.PATTERN_ROUNDS] == 1


def test_an_agent_start_that_names_its_provider_is_believed(provider, exporter):
    bridge = OpenTelemetryBridge(provider, raise_errors=True)
    bridge.export_event(TraceEvent(1.0, "agent_start", "a", "", {"model": "my-finetune", "provider": "mistral_ai"}))
    bridge.export_event(TraceEvent(2.0, "agent_end", "a", "", {}))
    (span,) = exporter.get_finished_spans()
    assert_invoke_agent_span(span, agent_name="a")
    assert (span.attributes[attr.GEN_AI_PROVIDER_NAME], span.attributes[attr.GEN_AI_REQUEST_MODEL]) == (
        "mistral_ai",
        "my-finetune",
    )


class Agent:
    name = "writer"
    model = "gpt-4o-mini"

    async def run(self, messages: list[Any]) -> str:
        return "done"


class Pipeline:
    pattern_type = "pipeline"

    def __init__(self, agent: Any) -> None:
        self.agent = agent

    async def run(self, task: str) -> str:
        return str(await self.agent.run([{"role": "user", "content": task}]))


async def test_decorated_and_hand_made_spans_are_conventional_and_keep_the_documented_pyagent_keys(provider, exporter):
    pattern = traced_pattern(tracer_provider=provider)(Pipeline)(traced_agent(Agent(), tracer_provider=provider))
    await pattern.run("go")
    emitter = PatternSpanEmitter("svc", tracer_provider=provider)
    with emitter.pattern("debate", attributes={"rounds": 2}), emitter.agent("judge", model="claude-sonnet-4"):
        emitter.llm_span("claude-sonnet-4", input_tokens=10, output_tokens=2).end()
    spans = exporter.get_finished_spans()
    assert sorted(span.name for span in spans) == [
        "chat claude-sonnet-4",
        "invoke_agent judge",
        "invoke_agent writer",
        "invoke_workflow debate",
        "invoke_workflow pipeline",
    ]
    for span in spans:
        assert_conventional(span)
    debate = next(span for span in spans if span.name == "invoke_workflow debate").attributes
    assert (debate[attr.PATTERN_TYPE], debate[attr.PATTERN_ROUNDS], debate[attr.SERVICE_NAME]) == ("debate", 2, "svc")
    assert debate[attr.GEN_AI_OPERATION_NAME] == "invoke_workflow"
