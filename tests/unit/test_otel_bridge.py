"""OpenTelemetryBridge: bus events from real pyagent-patterns runs become span trees."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pyagent_patterns import Agent
from pyagent_patterns.orchestration import FanOutFanIn, Pipeline
from pyagent_providers import TracedProvider

from pyagent_trace import attributes as attr
from pyagent_trace.cost import CostTracker
from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.exporters.otel import OpenTelemetryBridge
from pyagent_trace.testing import make_test_tracer_provider

NS = 1_000_000_000


class YieldingLLM:
    """An async LLM that yields to the loop a few times, so concurrent runs interleave."""

    _model = "gpt-4o-mini"

    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def __call__(self, messages):
        for _ in range(3):
            await asyncio.sleep(0)
        return self.answer


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
def bridge(exporter):
    bridge = OpenTelemetryBridge(make_test_tracer_provider(exporter), raise_errors=True)
    yield bridge
    bridge.shutdown()


@pytest.fixture
def bus(bridge):
    bus = TraceEventBus(raise_errors=True)
    bus.subscribe(bridge.export_event)
    return bus


def by_name(exporter):
    return {span.name: span for span in exporter.get_finished_spans()}


def parent_of(span):
    return span.parent.span_id if span.parent else None


def pipeline(bus, tag: str, tracker=None) -> Pipeline:
    stages = []
    for role in ("extractor", "writer"):
        agent = Agent(f"{role}-{tag}", YieldingLLM(f"{role} {tag} says hi")).set_trace_bus(bus)
        if tracker is not None:
            agent.set_cost_tracker(tracker)
        stages.append(agent)
    return Pipeline(stages=stages).set_trace_bus(bus)


def emit(bus, ts: float, event_type: str, agent: str = "", pattern: str = "", **payload):
    bus.emit(TraceEvent(ts, event_type, agent, pattern, payload))


async def test_a_pipeline_run_becomes_a_pattern_span_with_agent_children(bus, exporter):
    await pipeline(bus, "a").run("Tesla Q3")

    spans = by_name(exporter)
    assert set(spans) == {"invoke_workflow pipeline", "invoke_agent extractor-a", "invoke_agent writer-a"}
    root = spans["invoke_workflow pipeline"]
    assert root.parent is None
    assert root.attributes[attr.PATTERN_TYPE] == "pipeline"
    assert root.attributes[attr.PATTERN_OUTPUT_LEN] == len("writer a says hi")
    assert attr.EXEC_DURATION_MS in root.attributes
    for name in ("invoke_agent extractor-a", "invoke_agent writer-a"):
        agent = spans[name]
        assert parent_of(agent) == root.context.span_id
        assert agent.context.trace_id == root.context.trace_id
        assert agent.kind is SpanKind.INTERNAL
        assert agent.attributes[attr.GEN_AI_OPERATION_NAME] == "invoke_agent"
        assert agent.attributes[attr.GEN_AI_AGENT_NAME] == name.split(" ")[1]


def test_spans_start_and_end_at_the_event_timestamps(bus, exporter):
    emit(bus, 100.0, "pattern_start", pattern="debate")
    emit(bus, 100.5, "agent_start", "bull")
    emit(bus, 101.25, "agent_end", "bull", duration_seconds=0.75)
    emit(bus, 102.0, "pattern_end", pattern="debate", duration_seconds=2.0, output_length=7)

    spans = by_name(exporter)
    debate = spans["invoke_workflow debate"]
    assert (debate.start_time, debate.end_time) == (100 * NS, 102 * NS)
    bull = spans["invoke_agent bull"]
    assert (bull.start_time, bull.end_time) == (int(100.5 * NS), int(101.25 * NS))
    assert bull.attributes[attr.EXEC_DURATION_MS] == 750.0


def test_llm_call_becomes_a_genai_client_span_under_its_agent(bus, exporter):
    emit(bus, 10.0, "agent_start", "analyst")
    emit(
        bus,
        12.0,
        "llm_call",
        "analyst",
        model="claude-sonnet-4-20250514",
        input_tokens=1000,
        output_tokens=100,
        cost_usd=0.0045,
        duration_ms=1500.0,
    )
    emit(bus, 12.5, "agent_end", "analyst")

    spans = by_name(exporter)
    llm = spans["chat claude-sonnet-4-20250514"]
    assert llm.kind is SpanKind.CLIENT
    assert parent_of(llm) == spans["invoke_agent analyst"].context.span_id
    assert (llm.start_time, llm.end_time) == (int(10.5 * NS), 12 * NS)
    assert dict(llm.attributes) == {
        attr.GEN_AI_OPERATION_NAME: "chat",
        attr.GEN_AI_REQUEST_MODEL: "claude-sonnet-4-20250514",
        attr.GEN_AI_PROVIDER_NAME: "anthropic",
        attr.GEN_AI_USAGE_INPUT_TOKENS: 1000,
        attr.GEN_AI_USAGE_OUTPUT_TOKENS: 100,
        attr.COST_INPUT_TOKENS: 1000,
        attr.COST_OUTPUT_TOKENS: 100,
        attr.COST_TOTAL_USD: 0.0045,
        attr.EXEC_DURATION_MS: 1500.0,
    }
    agent = spans["invoke_agent analyst"]
    assert agent.attributes[attr.COST_TOTAL_USD] == 0.0045  # no cost_record: the LLM spans count


def test_llm_call_without_a_cost_is_priced_or_marked_unpriced(bus, exporter):
    emit(bus, 0.5, "agent_start", "a")
    emit(bus, 1.0, "llm_call", "a", model="gpt-4o-mini", input_tokens=1000, output_tokens=100)
    emit(bus, 1.5, "agent_end", "a")
    emit(bus, 2.0, "llm_call", "a", model="my-private-model", input_tokens=10, output_tokens=1)

    spans = by_name(exporter)
    assert spans["chat gpt-4o-mini"].attributes[attr.COST_TOTAL_USD] == pytest.approx(0.00021)
    assert spans["invoke_agent a"].attributes[attr.COST_TOTAL_USD] == pytest.approx(0.00021)
    private = spans["chat my-private-model"].attributes
    assert private[attr.COST_UNPRICED] is True
    assert attr.COST_TOTAL_USD not in private


async def test_cost_records_land_on_the_agent_span_and_add_up_on_the_pattern(bus, exporter):
    tracker = CostTracker(event_bus=bus)
    await pipeline(bus, "c", tracker).run("Tesla Q3")

    spans = by_name(exporter)
    agents = [spans["invoke_agent extractor-c"], spans["invoke_agent writer-c"]]
    for span, entry in zip(agents, tracker.entries, strict=True):
        assert span.attributes[attr.COST_INPUT_TOKENS] == entry.input_tokens
        assert span.attributes[attr.GEN_AI_USAGE_OUTPUT_TOKENS] == entry.output_tokens
        assert span.attributes[attr.COST_TOTAL_USD] == pytest.approx(entry.cost_usd)
        assert span.attributes[attr.AGENT_MODEL] == "gpt-4o-mini"
    pattern = spans["invoke_workflow pipeline"].attributes
    assert pattern[attr.COST_TOTAL_USD] == pytest.approx(tracker.total_cost)
    assert pattern[attr.COST_INPUT_TOKENS] == sum(e.input_tokens for e in tracker.entries)


def test_an_unpriced_cost_record_makes_the_totals_unknown_not_zero(bus, exporter):
    emit(bus, 1.0, "pattern_start", pattern="pipeline")
    emit(bus, 1.1, "agent_start", "a")
    emit(
        bus,
        1.2,
        "cost_record",
        "a",
        "agent",
        model="mystery",
        input_tokens=5,
        output_tokens=1,
        cost_usd=0.0,
        priced=False,
    )
    emit(bus, 1.3, "agent_end", "a")
    emit(bus, 1.4, "pattern_end", pattern="pipeline")

    for span in exporter.get_finished_spans():
        assert span.attributes[attr.COST_UNPRICED] is True
        assert attr.COST_TOTAL_USD not in span.attributes


def test_an_error_payload_sets_status_error_and_records_the_exception(bus, exporter):
    emit(bus, 1.0, "agent_start", "judge")
    emit(bus, 2.0, "agent_end", "judge", error="rate limited", error_type="RateLimitError")

    span = by_name(exporter)["invoke_agent judge"]
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "RateLimitError: rate limited"
    assert span.attributes[attr.ERROR_TYPE] == "RateLimitError"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes[attr.EXCEPTION_MESSAGE] == "rate limited"


def test_an_error_event_marks_the_named_agent_and_keeps_it_open(bus, exporter):
    emit(bus, 1.0, "pattern_start", pattern="debate")
    emit(bus, 1.1, "agent_start", "bear")
    emit(bus, 1.2, "error", "bear", exception=ValueError("bad verdict"))
    emit(bus, 1.3, "agent_end", "bear")
    emit(bus, 1.4, "pattern_end", pattern="debate")

    spans = by_name(exporter)
    bear = spans["invoke_agent bear"]
    assert bear.status.status_code is StatusCode.ERROR
    assert bear.events[0].attributes[attr.EXCEPTION_TYPE] == "ValueError"
    assert bear.end_time == int(1.3 * NS)
    assert spans["invoke_workflow debate"].status.status_code is StatusCode.UNSET


class _Provider:
    """A provider of pyagent-providers' protocol, answering "ok". Not its MockProvider: the
    ``pyagent_providers.adapters`` package imports every adapter whose SDK is installed, and
    litellm's import alone takes ~4 s and starts a thread that keeps fetching its price map
    (and writing warnings to whatever sys.stderr is at the time) for the rest of the process."""

    name = "mockai"

    async def complete(self, messages, model=None):
        return "ok"

    async def __call__(self, messages):
        return "ok"


async def test_traced_provider_calls_become_client_spans(bus, exporter):
    llm = TracedProvider(_Provider(), bus)
    await Agent("caller", llm).set_trace_bus(bus).run([])

    spans = by_name(exporter)
    call = spans["chat default"]
    assert call.kind is SpanKind.CLIENT
    assert call.attributes[attr.GEN_AI_PROVIDER_NAME] == "mockai"
    assert parent_of(call) == spans["invoke_agent caller"].context.span_id


def test_a_provider_error_ends_the_client_span_with_status_error(bus, exporter):
    emit(bus, 1.0, "provider_call_start", "openai", provider="openai", model="gpt-4o")
    emit(bus, 2.0, "provider_call_error", "openai", provider="openai", error="HTTP 500")

    span = by_name(exporter)["chat gpt-4o"]
    assert span.status.status_code is StatusCode.ERROR
    assert span.end_time == 2 * NS


async def test_two_concurrent_pipelines_build_two_separate_trees(bus, exporter):
    await asyncio.gather(pipeline(bus, "x").run("one"), pipeline(bus, "y").run("two"))

    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.name == "invoke_workflow pipeline"]
    assert len(roots) == 2
    assert roots[0].context.trace_id != roots[1].context.trace_id
    for root in roots:
        children = {s.name for s in spans if parent_of(s) == root.context.span_id}
        tags = {name[-1] for name in children}
        assert len(children) == 2
        assert len(tags) == 1, f"agents of two runs mixed under one pattern: {children}"


async def test_agents_gathered_by_a_pattern_nest_under_it(bus, exporter):
    agents = [Agent(n, YieldingLLM(n)).set_trace_bus(bus) for n in ("a1", "a2", "a3")]
    fan = FanOutFanIn(agents=agents, aggregator=Agent("agg", YieldingLLM("all")).set_trace_bus(bus))
    await fan.set_trace_bus(bus).run("go")

    spans = by_name(exporter)
    root = spans["invoke_workflow fan_out_fan_in"]
    for name in ("a1", "a2", "a3", "agg"):
        assert parent_of(spans[f"invoke_agent {name}"]) == root.context.span_id


def test_runs_in_threads_build_one_tree_each(bus, exporter):
    threads = [threading.Thread(target=asyncio.run, args=(pipeline(bus, f"t{i}").run("go"),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    spans = exporter.get_finished_spans()
    roots = {s.context.span_id: s for s in spans if s.name == "invoke_workflow pipeline"}
    assert len(roots) == 4
    for i in range(4):
        agents = [s for s in spans if s.name.endswith(f"-t{i}")]
        assert len(agents) == 2
        assert len({parent_of(s) for s in agents}) == 1
        assert parent_of(agents[0]) in roots


def test_interleaved_events_from_two_threads_do_not_cross(bus, exporter):
    """Each step of thread A waits for the same step of thread B: worst-case interleaving."""
    barrier = threading.Barrier(2)

    def run(tag: str) -> None:
        for event_type, agent in (("pattern_start", ""), ("agent_start", tag), ("agent_end", tag), ("pattern_end", "")):
            barrier.wait()
            emit(bus, 1.0, event_type, agent, pattern=f"p{tag}" if not agent else "")

    threads = [threading.Thread(target=run, args=(tag,)) for tag in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    spans = by_name(exporter)
    for tag in "AB":
        assert parent_of(spans[f"invoke_agent {tag}"]) == spans[f"invoke_workflow p{tag}"].context.span_id


async def test_an_agent_that_raised_is_closed_as_unfinished_when_it_starts_again(bus, exporter):
    class FlakyLLM:
        calls = 0

        async def __call__(self, messages):
            self.calls += 1
            if self.calls == 1:
                raise TimeoutError("provider timed out")
            return "ok"

    agent = Agent("flaky", FlakyLLM()).set_trace_bus(bus)
    with pytest.raises(TimeoutError):
        await agent.run([])
    await agent.run([])

    first, second = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time)
    assert first.status.status_code is StatusCode.ERROR
    assert "never came" in first.status.description
    assert second.status.status_code is StatusCode.UNSET
    assert second.parent is None, "the retry must not nest under the failed attempt"


def test_shutdown_ends_spans_left_open_with_status_error(bridge, bus, exporter):
    emit(bus, 1.0, "pattern_start", pattern="debate")
    emit(bus, 1.1, "agent_start", "bull")
    assert exporter.get_finished_spans() == ()

    bridge.shutdown()

    spans = by_name(exporter)
    assert set(spans) == {"invoke_workflow debate", "invoke_agent bull"}
    assert all(s.status.status_code is StatusCode.ERROR for s in spans.values())


def test_root_spans_nest_under_the_current_span_unless_told_not_to(exporter):
    provider = make_test_tracer_provider(exporter)
    nested, separate = OpenTelemetryBridge(provider), OpenTelemetryBridge(provider, parent_from_context=False)
    with provider.get_tracer("app").start_as_current_span("request") as request:
        nested.export_event(TraceEvent(1.0, "agent_start", "inside"))
        nested.export_event(TraceEvent(2.0, "agent_end", "inside"))
        separate.export_event(TraceEvent(1.0, "agent_start", "apart"))
        separate.export_event(TraceEvent(2.0, "agent_end", "apart"))

    spans = by_name(exporter)
    assert parent_of(spans["invoke_agent inside"]) == request.get_span_context().span_id
    assert spans["invoke_agent apart"].parent is None


def test_cost_records_can_be_drawn_as_llm_spans(exporter):
    bridge = OpenTelemetryBridge(make_test_tracer_provider(exporter), cost_records_as_llm_spans=True)
    bridge.export_event(TraceEvent(1.0, "agent_start", "a"))
    bridge.export_event(
        TraceEvent(
            3.0,
            "cost_record",
            "a",
            "agent",
            {"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 100, "cost_usd": 0.00021, "priced": True},
        )
    )
    bridge.export_event(TraceEvent(4.0, "agent_end", "a"))

    spans = by_name(exporter)
    llm = spans["chat gpt-4o-mini"]
    assert (llm.start_time, llm.end_time) == (1 * NS, 3 * NS)
    assert parent_of(llm) == spans["invoke_agent a"].context.span_id
    assert spans["invoke_agent a"].attributes[attr.COST_TOTAL_USD] == 0.00021  # counted once


def test_prompts_are_written_only_when_content_capture_is_on(exporter):
    payload = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "response": "hello"}
    for capture in (False, True):
        bridge = OpenTelemetryBridge(make_test_tracer_provider(exporter), capture_content=capture)
        bridge.export_event(TraceEvent(1.0, "llm_call", "a", "", payload))
    without, with_content = (s.attributes for s in exporter.get_finished_spans())
    assert attr.GEN_AI_INPUT_MESSAGES not in without
    assert with_content[attr.GEN_AI_INPUT_MESSAGES] == '[{"role":"user","content":"hi"}]'
    assert with_content[attr.GEN_AI_OUTPUT_MESSAGES] == '[{"role":"assistant","content":"hello"}]'


def test_a_failing_backend_never_reaches_the_emitter_and_is_logged_once(caplog):
    class BrokenTracer:
        def start_span(self, *args, **kwargs):
            raise RuntimeError("tracer exploded")

    class BrokenProvider:
        def get_tracer(self, *args, **kwargs):
            return BrokenTracer()

    bridge = OpenTelemetryBridge(BrokenProvider())
    bus = TraceEventBus(raise_errors=True)
    bus.subscribe(bridge.export_event)
    with caplog.at_level(logging.WARNING, logger="pyagent_trace"):
        for _ in range(3):
            emit(bus, 1.0, "agent_start", "a")
    assert bridge.error_count == 3
    warnings = [r for r in caplog.records if r.name == "pyagent_trace.exporters.otel"]
    assert len(warnings) == 1
    assert "tracer exploded" in warnings[0].getMessage()


def test_user_prices_price_the_bridges_llm_spans(exporter):
    """OpenTelemetryBridge(prices=...) prices calls without a cost from the user's table, not only the defaults."""
    bridge = OpenTelemetryBridge(
        make_test_tracer_provider(exporter), raise_errors=True, prices={"house-model": {"input": 2.0, "output": 4.0}}
    )
    bus = TraceEventBus(raise_errors=True)
    bus.subscribe(bridge.export_event)

    emit(bus, 1.0, "llm_call", "writer", model="house-model", input_tokens=1_000_000, output_tokens=500_000)
    bridge.shutdown()

    (span,) = exporter.get_finished_spans()
    assert span.attributes["pyagent.cost.total_usd"] == 4.0
    assert "pyagent.cost.unpriced" not in span.attributes
