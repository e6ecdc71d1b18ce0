"""LangfuseExporter with the real langfuse SDK against a fake Langfuse on 127.0.0.1.

The fake decodes the OTLP requests the SDK sends to ``/api/public/otel/v1/traces``: that
is where Langfuse v3+ ingests (verified in langfuse/_client/span_processor.py).
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import logging
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from _otlp_receiver import OtlpHttpReceiver, span_tree
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from pyagent_patterns import Agent, MockLLM
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import attributes as attr
from pyagent_trace.cost import CostTracker
from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.exporters.langfuse import LangfuseExporter

QUESTION = "Summarise the Tesla Q3 2025 earnings report and list the three biggest risks. " * 3


class ModelMockLLM(MockLLM):
    def __init__(self, model: str, answer: str) -> None:
        super().__init__([answer])
        self._model = model


def new_key() -> str:
    """The SDK keeps one client per public key for the whole process: one key per test."""
    return f"pk-lf-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def langfuse():
    with OtlpHttpReceiver() as rx:
        yield rx


def run_pipeline(bus: TraceEventBus, tracker: CostTracker | None = None) -> None:
    agents = [
        Agent("extractor", ModelMockLLM("gpt-4o-mini", "Revenue grew 8%; margins fell; guidance held.")),
        Agent("writer", ModelMockLLM("claude-sonnet-4-20250514", "A short brief on the quarter.")),
    ]
    for agent in agents:
        agent.set_trace_bus(bus)
        if tracker is not None:
            agent.set_cost_tracker(tracker)
    asyncio.run(Pipeline(stages=agents).set_trace_bus(bus).run(QUESTION))


def test_a_run_becomes_a_trace_with_agents_and_priced_generations(langfuse):
    key = new_key()
    exporter = LangfuseExporter(public_key=key, secret_key="sk-lf-secret", host=langfuse.url, raise_errors=True)
    bus = TraceEventBus(raise_errors=True)
    bus.subscribe(exporter.export_event)
    tracker = CostTracker(event_bus=bus)
    run_pipeline(bus, tracker)
    exporter.shutdown()
    spans = langfuse.wait_for_spans(5)

    request = langfuse.requests[0]
    assert request.path == "/api/public/otel/v1/traces"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{key}:sk-lf-secret".encode()).decode()
    assert request.headers["x-langfuse-ingestion-version"] == "4"
    assert span_tree(spans) == {
        "": ["invoke_workflow pipeline"],
        "invoke_workflow pipeline": ["invoke_agent extractor", "invoke_agent writer"],
        "invoke_agent extractor": ["chat gpt-4o-mini"],
        "invoke_agent writer": ["chat claude-sonnet-4-20250514"],
    }
    by_name = {s["name"]: s["attributes"] for s in spans}
    root = by_name["invoke_workflow pipeline"]
    assert root["langfuse.trace.name"] == "invoke_workflow pipeline"
    assert root["langfuse.observation.type"] == "chain"
    assert by_name["invoke_agent writer"]["langfuse.observation.type"] == "agent"
    for entry in tracker.entries:
        generation = by_name[f"chat {entry.model}"]
        assert generation["langfuse.observation.type"] == "generation"
        assert generation["langfuse.observation.model.name"] == entry.model
        assert json.loads(generation["langfuse.observation.usage_details"]) == {
            "input": entry.input_tokens,
            "output": entry.output_tokens,
            "total": entry.tokens,
        }
        assert entry.input_tokens > 0
        cost = json.loads(generation["langfuse.observation.cost_details"])
        assert cost["total"] == pytest.approx(entry.cost_usd)
        assert generation[attr.GEN_AI_USAGE_INPUT_TOKENS] == entry.input_tokens


def test_llm_call_events_become_generations_with_their_prompt_when_asked(langfuse):
    exporter = LangfuseExporter(new_key(), "sk", langfuse.url, capture_content=True, raise_errors=True)
    exporter.export_event(TraceEvent(time.time(), "agent_start", "analyst"))
    exporter.export_event(
        TraceEvent(
            time.time(),
            "llm_call",
            "analyst",
            payload={
                "model": "gpt-4o",
                "input_tokens": 120,
                "output_tokens": 30,
                "cost_usd": 0.0006,
                "messages": [{"role": "user", "content": "Summarise Q3"}],
                "response": "Q3 was fine.",
            },
        )
    )
    exporter.export_event(TraceEvent(time.time(), "agent_end", "analyst"))
    exporter.shutdown()
    spans = {s["name"]: s["attributes"] for s in langfuse.wait_for_spans(2)}

    generation = spans["chat gpt-4o"]
    assert json.loads(generation["langfuse.observation.cost_details"]) == {"total": 0.0006}
    assert json.loads(generation[attr.GEN_AI_INPUT_MESSAGES]) == [{"role": "user", "content": "Summarise Q3"}]
    assert "Q3 was fine." in generation[attr.GEN_AI_OUTPUT_MESSAGES]
    assert "chat gpt-4o" not in [n for n in spans if spans[n].get("langfuse.trace.name")]  # agent is the root


def test_the_exporter_never_touches_the_global_tracer_provider(langfuse):
    before = trace.get_tracer_provider()
    exporter = LangfuseExporter(new_key(), "sk", langfuse.url)
    exporter.shutdown()
    assert trace.get_tracer_provider() is before


GLOBAL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from pyagent_trace.events import TraceEvent
    from pyagent_trace.exporters.langfuse import LangfuseExporter

    mine = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(mine))
    trace.set_tracer_provider(provider)  # the application's own tracing, set up first

    exporter = LangfuseExporter("pk-lf-app", "sk-lf-app", sys.argv[1])
    with trace.get_tracer("app").start_as_current_span("GET /report"):
        exporter.export_event(TraceEvent(time.time(), "agent_start", "analyst"))
        exporter.export_event(TraceEvent(time.time(), "agent_end", "analyst"))
    exporter.shutdown()
    print("global is still mine:", trace.get_tracer_provider() is provider)
    print("app spans:", sorted(s.name for s in mine.get_finished_spans()))
    """
)


def test_an_application_global_provider_keeps_its_spans_and_gets_none_of_ours(langfuse):
    done = subprocess.run(
        [sys.executable, "-c", GLOBAL_SCRIPT, langfuse.url], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "global is still mine: True" in done.stdout
    assert "app spans: ['GET /report']" in done.stdout
    spans = langfuse.wait_for_spans(1)
    assert [s["name"] for s in spans] == ["invoke_agent analyst"]
    assert spans[0]["parent_span_id"] is None, "a Langfuse trace must not hang under an app span it never gets"


def test_a_langfuse_client_made_earlier_with_the_same_key_does_not_swallow_our_spans(langfuse):
    from langfuse import Langfuse

    key = new_key()
    first = Langfuse(public_key=key, secret_key="sk", base_url=langfuse.url, tracer_provider=TracerProvider())
    exporter = LangfuseExporter(key, "sk", langfuse.url, raise_errors=True)
    exporter.export_event(TraceEvent(time.time(), "agent_start", "analyst"))
    exporter.export_event(TraceEvent(time.time(), "agent_end", "analyst"))
    exporter.shutdown()
    first.shutdown()
    assert [s["name"] for s in langfuse.wait_for_spans(1)] == ["invoke_agent analyst"]


def test_missing_keys_are_a_clear_config_error(monkeypatch):
    monkeypatch.delenv("LANGFUSE_SECRET_KEY", raising=False)
    expected = r"needs a secret_key, got None\. Pass secret_key= or set LANGFUSE_SECRET_KEY"
    with pytest.raises(ConfigError, match=expected):
        LangfuseExporter(public_key="pk-lf-x", host="http://127.0.0.1:9")


def test_importing_without_the_sdk_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "langfuse", None)  # what a missing package looks like to import
    monkeypatch.delitem(sys.modules, "pyagent_trace.exporters.langfuse")
    with pytest.raises(ImportError, match=r"pip install 'pyagent-trace\[langfuse\]'"):
        importlib.import_module("pyagent_trace.exporters.langfuse")


def timed_runs(bus: TraceEventBus | None, runs: int = 50) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        run_pipeline(bus) if bus is not None else run_pipeline(TraceEventBus())
    return time.perf_counter() - start


@pytest.mark.parametrize("mode", ["hang", "fail"])
def test_a_langfuse_outage_costs_the_run_nothing_and_warns_once(mode, caplog):
    with OtlpHttpReceiver(mode) as down:
        exporter = LangfuseExporter(new_key(), "sk", down.url, timeout=5, flush_interval=0.001)
        bus = TraceEventBus(raise_errors=True)
        bus.subscribe(exporter.export_event)
        caplog.set_level(logging.WARNING)
        untraced = min(timed_runs(None) for _ in range(2))
        traced = timed_runs(bus)
        if mode == "hang":
            assert down.hanging.wait(10), "the SDK never reached the hanging backend"
        else:
            exporter.flush()  # returns once the last batch got its 500
    exporter.span_exporter.exporter.shutdown()  # abort the exporter's retry back-off
    exporter.shutdown()

    # Blocking even once would cost the 5 s export timeout.
    assert traced < untraced + 1.0, f"traced {traced:.2f}s vs untraced {untraced:.2f}s with Langfuse {mode}"
    warned = [r for r in caplog.records if r.name.startswith("pyagent_trace") and r.levelno >= logging.WARNING]
    ours = [r.getMessage() for r in warned]
    at_shutdown = [m for m in ours if "were not delivered at shutdown" in m]  # the total, said once at the end
    assert len(at_shutdown) == 1, ours
    ours.remove(at_shutdown[0])
    assert len(ours) == 1, ours
    assert "Langfuse http://127.0.0.1" in ours[0]
    if mode == "fail":
        assert exporter.span_exporter.failure_count >= 2
        assert exporter.span_exporter.exported_spans == 0


EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pyagent_patterns import Agent, MockLLM
    from pyagent_patterns.orchestration import Pipeline
    from pyagent_trace.events import TraceEventBus
    from pyagent_trace.exporters.langfuse import LangfuseExporter

    bus = TraceEventBus()
    bus.subscribe(LangfuseExporter("pk-lf-exit", "sk-lf-exit", sys.argv[1]).export_event)
    for i in range(10):
        stages = [Agent(f"a{i}", MockLLM(["x"])).set_trace_bus(bus), Agent(f"b{i}", MockLLM(["y"])).set_trace_bus(bus)]
        asyncio.run(Pipeline(stages=stages).set_trace_bus(bus).run("go"))
    print("exiting without shutdown")
    """
)


def test_a_process_that_exits_without_shutdown_still_sends_every_span(langfuse):
    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, langfuse.url], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert len(langfuse.wait_for_spans(30)) == 30


def test_an_sdk_too_old_for_an_isolated_provider_is_a_clear_config_error(monkeypatch):
    import pyagent_trace.exporters.langfuse as module

    def old_langfuse(**kwargs):
        raise TypeError("__init__() got an unexpected keyword argument 'span_exporter'")

    monkeypatch.setattr(module, "Langfuse", old_langfuse)
    with pytest.raises(ConfigError, match=r"needs langfuse>=5 .* pip install -U 'pyagent-trace\[langfuse\]'"):
        LangfuseExporter("pk-lf-old", "sk", "http://127.0.0.1:9")
