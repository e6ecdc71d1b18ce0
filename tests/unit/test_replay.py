"""ReplayLLM: recorded order, per-agent streams, strict matching, readable errors."""

from __future__ import annotations

import pytest

from pyagent_trace.exceptions import ConfigError, ReplayExhaustedError, ReplayMismatchError
from pyagent_trace.recorder import Recorder, ReplayLLM


@pytest.fixture
def recording(tmp_path):
    recorder = Recorder()
    recorder.start(pattern_name="pipeline")
    recorder.record_llm_call("extractor", "facts please", "fact 1", model="claude-sonnet-4", cost_usd=0.1)
    recorder.record_llm_call("writer", "write it", "brief", model="gpt-4o-mini", cost_usd=0.1)
    recorder.record_llm_call("extractor", "more facts", "fact 2", model="claude-sonnet-4", cost_usd=0.1)
    recorder.end(final_output="brief")
    return recorder.save(tmp_path / "run.jsonl")


async def test_returns_one_agents_responses_in_recorded_order(recording):
    llm = ReplayLLM.from_recording(recording, agent_name="extractor")
    assert await llm([{"role": "user", "content": "anything"}]) == "fact 1"
    assert await llm("anything") == "fact 2"
    assert llm.calls_replayed == 2
    assert llm.remaining == 0
    assert llm.last_entry is not None
    assert llm.last_entry.response == "fact 2"


async def test_without_agent_name_it_replays_every_call(recording):
    llm = ReplayLLM.from_recording(recording)
    assert [await llm("x") for _ in range(3)] == ["fact 1", "brief", "fact 2"]


async def test_exposes_the_recorded_model_for_pyagent_cost_tracking(recording):
    assert ReplayLLM.from_recording(recording, agent_name="writer")._model == "gpt-4o-mini"


async def test_running_out_names_agent_call_number_and_request(recording):
    llm = ReplayLLM.from_recording(recording, agent_name="writer")
    await llm("write it")
    with pytest.raises(ReplayExhaustedError) as info:
        await llm("write it again")
    text = str(info.value)
    assert "agent 'writer'" in text
    assert "call #2" in text
    assert "holds 1 call(s)" in text
    assert "user: write it again" in text
    assert "run.jsonl" in text


async def test_strict_mode_shows_a_diff_of_the_messages(recording):
    llm = ReplayLLM.from_recording(recording, agent_name="extractor", strict=True)
    assert await llm("facts please") == "fact 1"
    with pytest.raises(ReplayMismatchError) as info:
        await llm("other facts")
    text = str(info.value)
    assert "call #2 differs" in text
    assert "-user: more facts" in text
    assert "+user: other facts" in text
    assert llm.calls_replayed == 1, "a mismatch does not consume the recorded call"


async def test_non_strict_mode_replays_by_order_whatever_the_messages(recording):
    llm = ReplayLLM.from_recording(recording, agent_name="extractor")
    assert await llm("totally different") == "fact 1"


def test_an_agent_missing_from_the_recording_is_named_with_the_recorded_ones(recording):
    with pytest.raises(ConfigError, match=r"no llm_call for agent 'judge'; agents recorded: 'extractor', 'writer'"):
        ReplayLLM.from_recording(recording, agent_name="judge")


async def test_drops_into_a_pyagent_patterns_agent(recording):
    from pyagent_patterns.base import Agent, LLMCallable, Message

    llm = ReplayLLM.from_recording(recording, agent_name="writer")
    assert isinstance(llm, LLMCallable)
    reply = await Agent("writer", llm, system_prompt="Write.").run([Message.user("go")])
    assert reply.content == "brief"


async def test_complete_supports_the_provider_protocol_and_reset_rewinds(recording):
    llm = ReplayLLM.from_recording(recording, agent_name="writer")
    assert await llm.complete("x", model="ignored") == "brief"
    llm.reset()
    assert await llm("x") == "brief"


@pytest.fixture
def repeated(tmp_path):
    recorder = Recorder()
    recorder.record_llm_call("a", "ping", "pong 1", cost_usd=0.1)
    recorder.record_llm_call("a", "other", "other answer", cost_usd=0.1)
    recorder.record_llm_call("a", "ping", "pong 2", cost_usd=0.1)
    return recorder.save(tmp_path / "rep.jsonl")


async def test_match_by_messages_finds_calls_out_of_order_and_repeats_in_recorded_order(repeated):
    llm = ReplayLLM.from_recording(repeated, agent_name="a")
    llm = ReplayLLM(llm.recorded_calls, "a", match="messages")
    assert await llm("other") == "other answer"
    assert await llm("ping") == "pong 1"
    assert await llm("ping") == "pong 2"
    assert llm.unused_calls == []


async def test_match_by_messages_shows_the_nearest_recorded_call_on_a_miss(repeated):
    llm = ReplayLLM(ReplayLLM.from_recording(repeated).recorded_calls, "a", match="messages", source="rep")
    with pytest.raises(ReplayMismatchError) as info:
        await llm("othre")
    text = str(info.value)
    assert "call #1 matches no recorded call; nearest is recorded call #2" in text
    assert "-user: other" in text
    assert "+user: othre" in text


async def test_match_by_messages_reports_exhaustion_when_everything_was_used(repeated):
    llm = ReplayLLM(ReplayLLM.from_recording(repeated).recorded_calls, "a", match="messages")
    for prompt in ("ping", "other", "ping"):
        await llm(prompt)
    with pytest.raises(ReplayExhaustedError, match="call #4 has no recorded response"):
        await llm("ping")


async def test_unused_calls_and_the_on_replay_hook(repeated):
    seen = []
    llm = ReplayLLM(ReplayLLM.from_recording(repeated).recorded_calls, "a", on_replay=seen.append)
    await llm("ping")
    assert [e.response for e in seen] == ["pong 1"]
    assert [e.response for e in llm.unused_calls] == ["other answer", "pong 2"]


def test_an_unknown_match_mode_is_rejected(repeated):
    with pytest.raises(ConfigError, match="match='fuzzy'"):
        ReplayLLM([], match="fuzzy")  # type: ignore[arg-type]
