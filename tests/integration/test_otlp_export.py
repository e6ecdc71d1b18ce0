"""OTLP export end to end: a fake collector on 127.0.0.1 decodes what the SDK sends.

Also the non-blocking guarantee (a backend that hangs or answers 500 costs the run
nothing but the lost spans and one warning) and the exit story (a process that never
calls shutdown still delivers every span).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import time

import pytest
from _otlp_receiver import OtlpGrpcReceiver, OtlpHttpReceiver, span_tree
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pyagent_patterns import Agent, MockLLM
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import attributes as attr
from pyagent_trace.cost import CostTracker
from pyagent_trace.events import TraceEventBus
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.exporters._failsafe import FailSafeSpanExporter
from pyagent_trace.exporters.otel import OpenTelemetryBridge
from pyagent_trace.exporters.otlp import otlp_span_exporter, otlp_tracer_provider
from pyagent_trace.spans import traced_agent, traced_pattern


class ModelMockLLM(MockLLM):
    def __init__(self, model: str, answer: str) -> None:
        super().__init__([answer])
        self._model = model


def bus_pipeline(bus: TraceEventBus | None, tracker: CostTracker | None = None) -> Pipeline:
    agents = [
        Agent("extractor", ModelMockLLM("gpt-4o-mini", "facts")),
        Agent("writer", ModelMockLLM("claude-sonnet-4-20250514", "brief")),
    ]
    if bus is None:
        return Pipeline(stages=agents)
    for agent in agents:
        agent.set_trace_bus(bus)
        if tracker is not None:
            agent.set_cost_tracker(tracker)
    return Pipeline(stages=agents).set_trace_bus(bus)


def test_a_traced_pattern_run_arrives_with_its_tree_and_attributes():
    with OtlpHttpReceiver() as rx:
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=rx.traces_url)))

        @traced_pattern(tracer_provider=provider)
        class TracedPipeline(Pipeline):
            pass

        stages = [
            traced_agent(Agent("extractor", ModelMockLLM("gpt-4o-mini", "facts")), tracer_provider=provider),
            traced_agent(Agent("writer", ModelMockLLM("gpt-4o-mini", "brief")), tracer_provider=provider),
        ]
        asyncio.run(TracedPipeline(stages=stages).run("Tesla Q3"))
        provider.shutdown()
        spans = rx.wait_for_spans(3)

    assert span_tree(spans) == {
        "": ["invoke_workflow pipeline"],
        "invoke_workflow pipeline": ["invoke_agent extractor", "invoke_agent writer"],
    }
    by_name = {s["name"]: s for s in spans}
    assert len({s["trace_id"] for s in spans}) == 1
    assert by_name["invoke_workflow pipeline"]["attributes"][attr.PATTERN_TYPE] == "pipeline"
    writer = by_name["invoke_agent writer"]["attributes"]
    assert writer[attr.GEN_AI_AGENT_NAME] == "writer"
    assert writer[attr.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


def test_bus_events_arrive_through_the_bridge_with_costs_and_timestamps():
    with OtlpHttpReceiver() as rx:
        provider = otlp_tracer_provider(rx.url, service_name="analysis")  # no path: /v1/traces added
        bus = TraceEventBus(raise_errors=True)
        events = []
        bus.subscribe(events.append)
        bus.subscribe(OpenTelemetryBridge(provider, raise_errors=True).export_event)
        tracker = CostTracker(event_bus=bus)
        asyncio.run(bus_pipeline(bus, tracker).run("Tesla Q3"))
        provider.shutdown()
        spans = rx.wait_for_spans(3)

    assert rx.requests[0].path == "/v1/traces"
    assert span_tree(spans) == {
        "": ["invoke_workflow pipeline"],
        "invoke_workflow pipeline": ["invoke_agent extractor", "invoke_agent writer"],
    }
    by_name = {s["name"]: s for s in spans}
    assert by_name["invoke_workflow pipeline"]["resource"]["service.name"] == "analysis"
    assert by_name["invoke_workflow pipeline"]["start"] == int(events[0].timestamp * 1e9)
    assert by_name["invoke_workflow pipeline"]["attributes"][attr.COST_TOTAL_USD] == pytest.approx(tracker.total_cost)
    writer = by_name["invoke_agent writer"]["attributes"]
    assert writer[attr.AGENT_MODEL] == "claude-sonnet-4-20250514"
    assert writer[attr.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert writer[attr.COST_TOTAL_USD] == pytest.approx(tracker.entries[1].cost_usd)


def test_the_grpc_exporter_delivers_the_same_tree():
    with OtlpGrpcReceiver() as rx:
        provider = otlp_tracer_provider(rx.url, protocol="grpc")
        bus = TraceEventBus(raise_errors=True)
        bus.subscribe(OpenTelemetryBridge(provider, raise_errors=True).export_event)
        asyncio.run(bus_pipeline(bus).run("Tesla Q3"))
        provider.shutdown()
        spans = rx.wait_for_spans(3)
    assert span_tree(spans)["invoke_workflow pipeline"] == ["invoke_agent extractor", "invoke_agent writer"]


def test_an_unknown_protocol_is_a_config_error_that_names_the_choices():
    expected = r"OTLP protocol 'http/json' is not supported; use one of 'http/protobuf', 'grpc'"
    with pytest.raises(ConfigError, match=expected):
        otlp_span_exporter("http://127.0.0.1:9", protocol="http/json")


# -- non-blocking ---------------------------------------------------------------------------
RUNS = 150  # 450 spans: many batches go out (and fail) while the run is going on


def run_pipelines(bus: TraceEventBus | None) -> float:
    async def main() -> None:
        for _ in range(RUNS):
            await bus_pipeline(bus).run("Tesla Q3")

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


@pytest.mark.parametrize("mode", ["hang", "fail"])
def test_a_backend_that_hangs_or_fails_costs_the_run_nothing_and_warns_once(mode, caplog):
    with OtlpHttpReceiver(mode) as rx:
        failsafe = FailSafeSpanExporter(otlp_span_exporter(rx.traces_url, timeout=5), "fake backend")
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(failsafe, max_export_batch_size=32, schedule_delay_millis=1))
        bus = TraceEventBus(raise_errors=True)
        bus.subscribe(OpenTelemetryBridge(provider, raise_errors=True).export_event)
        untraced = min(run_pipelines(None) for _ in range(2))
        with caplog.at_level(logging.WARNING):
            traced = run_pipelines(bus)
            if mode == "hang":
                assert rx.hanging.wait(10), "the exporter never reached the hanging backend"
            else:
                provider.force_flush()  # returns once the last batch got its 500
    failsafe.exporter.shutdown()  # abort the exporter's retry back-off, then stop the worker
    provider.shutdown()

    # Blocking even once would cost the 5 s export timeout; 450 spans cost ~20-50 ms here.
    assert traced < untraced + 1.0, f"traced run took {traced:.2f}s, untraced {untraced:.2f}s"
    ours = [r for r in caplog.records if r.name.startswith("pyagent_trace") and r.levelno >= logging.WARNING]
    assert len(ours) == 1, [r.getMessage() for r in ours]
    assert "fake backend" in ours[0].getMessage()
    if mode == "fail":
        assert failsafe.failure_count >= 2  # several batches failed, one warning
        assert failsafe.dropped_spans == RUNS * 3
        assert failsafe.exported_spans == 0


# -- exit -------------------------------------------------------------------------------------
EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from opentelemetry import trace
    from pyagent_patterns import Agent, MockLLM
    from pyagent_patterns.orchestration import Pipeline
    from pyagent_trace.events import TraceEvent, TraceEventBus
    from pyagent_trace.exporters.otel import OpenTelemetryBridge
    from pyagent_trace.exporters.otlp import otlp_tracer_provider

    bus = TraceEventBus()
    bus.subscribe(OpenTelemetryBridge(otlp_tracer_provider(sys.argv[1])).export_event)

    async def main():
        for i in range(20):
            stages = [Agent(f"{name}{i}", MockLLM(["x"])).set_trace_bus(bus) for name in "ab"]
            await Pipeline(stages=stages).set_trace_bus(bus).run("go")

    asyncio.run(main())
    bus.emit(TraceEvent(time.time(), "agent_start", "never-ends"))
    print("global provider untouched:", type(trace.get_tracer_provider()).__name__)
    """
)


def test_a_process_that_exits_without_shutdown_still_delivers_every_span():
    with OtlpHttpReceiver() as rx:
        done = subprocess.run(
            [sys.executable, "-c", EXIT_SCRIPT, rx.url], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        spans = rx.wait_for_spans(61)
    assert "global provider untouched: ProxyTracerProvider" in done.stdout
    assert len(spans) == 61
    unfinished = [s for s in spans if s["name"] == "invoke_agent never-ends"]
    assert unfinished[0]["status"] == "STATUS_CODE_ERROR"
    assert "exited before the run finished" in unfinished[0]["status_message"]
