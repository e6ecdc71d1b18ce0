"""pyagent-patterns' own hooks wired to our bus and tracker, the way the product docs show."""

from __future__ import annotations

import pytest
from pyagent_patterns.base import Agent, Message
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import CostTracker, Recorder, ReplayLLM
from pyagent_trace.events import TraceEvent, TraceEventBus


@pytest.fixture
def recording(tmp_path):
    recorder = Recorder()
    recorder.record_llm_call("analyst", "Summarise Q3", "Revenue up 8%.", model="claude-sonnet-4-20250514")
    recorder.record_llm_call("writer", "Revenue up 8%.", "Brief: revenue grew.", model="gpt-4o-mini")
    return recorder.save(tmp_path / "run.jsonl")


async def test_an_agent_over_replay_emits_start_cost_end_and_is_priced(recording):
    bus = TraceEventBus(raise_errors=True)
    seen: list[TraceEvent] = []
    bus.subscribe(seen.append)
    tracker = CostTracker(event_bus=bus)
    llm = ReplayLLM.from_recording(recording, agent_name="analyst")
    agent = Agent("analyst", llm, system_prompt="Analyse.").set_trace_bus(bus).set_cost_tracker(tracker)

    reply = await agent.run([Message.user("Summarise Q3")])

    assert reply.content == "Revenue up 8%."
    assert [(e.event_type, e.agent_name) for e in seen] == [
        ("agent_start", "analyst"),
        ("cost_record", "analyst"),
        ("agent_end", "analyst"),
    ]
    (entry,) = tracker.entries
    assert entry.model == "claude-sonnet-4-20250514", "the tracker learns the model from ReplayLLM._model"
    assert entry.priced
    assert tracker.total_cost > 0
    assert seen[1].payload["cost_usd"] == pytest.approx(tracker.total_cost)


async def test_a_pipeline_with_a_bus_emits_pattern_events_around_agent_events(recording):
    bus = TraceEventBus(raise_errors=True)
    seen: list[str] = []
    bus.subscribe(lambda e: seen.append(f"{e.event_type}:{e.agent_name or e.pattern_type}"))
    tracker = CostTracker(event_bus=bus)
    stages = [
        Agent(name, ReplayLLM.from_recording(recording, agent_name=name)).set_trace_bus(bus).set_cost_tracker(tracker)
        for name in ("analyst", "writer")
    ]
    result = await Pipeline(stages=stages).set_trace_bus(bus).run("Summarise Q3")

    assert result.output == "Brief: revenue grew."
    assert seen == [
        "pattern_start:pipeline",
        "agent_start:analyst",
        "cost_record:analyst",
        "agent_end:analyst",
        "agent_start:writer",
        "cost_record:writer",
        "agent_end:writer",
        "pattern_end:pipeline",
    ]
    assert set(tracker.by_model()) == {"claude-sonnet-4-20250514", "gpt-4o-mini"}
