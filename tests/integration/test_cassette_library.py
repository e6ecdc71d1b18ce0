"""pyagent_trace.cassette.Cassette without pytest's plugin: a context manager that records
LLM-level and SDK calls into one file, then replays them offline, each call accounted once."""

from __future__ import annotations

import asyncio
import contextlib
import json

import openai
import pytest

from pyagent_trace.cassette import Cassette
from pyagent_trace.exceptions import ReplayMismatchError


class Scripted:
    _model = "gpt-4o-mini"

    async def __call__(self, messages):
        return {"content": f"noted: {messages[-1]['content']}", "usage": {"input_tokens": 7, "output_tokens": 3}}


def run_agent(cassette: Cassette, base_url: str, question: str) -> tuple[str, str]:
    note = asyncio.run(cassette.llm(Scripted(), agent_name="notes")([{"role": "user", "content": question}]))
    client = openai.OpenAI(api_key="sk-test-lib0123456789abcdef", base_url=f"{base_url}/v1", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    return note, str(reply.choices[0].message.content)


def test_record_then_replay_offline_with_the_same_answers_and_cost(tmp_path, fake_providers):
    path = tmp_path / "plan.jsonl"
    with Cassette(path, mode="once") as recording:
        recorded = run_agent(recording, fake_providers.url, "plan a trip")
    fake_providers.stop()

    with Cassette(path) as replay:  # mode none: replay only
        replayed = run_agent(replay, "http://127.0.0.1:9", "plan a trip")

    assert replayed == recorded
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["event_type"] for r in rows] == ["recording_header", "llm_call", "http_interaction"]
    assert (replay.calls_replayed, replay.calls_recorded) == (2, 0)
    assert replay.tracker.call_count == recording.tracker.call_count == 2
    assert replay.tracker.total_cost == recording.tracker.total_cost > 0
    assert "sk-test-lib" not in path.read_text()


def test_a_request_the_cassette_lacks_is_raised_on_exit_even_if_the_code_swallowed_it(tmp_path, fake_providers):
    path = tmp_path / "plan.jsonl"
    with Cassette(path, mode="once") as recording:
        run_agent(recording, fake_providers.url, "plan a trip")
    fake_providers.stop()

    client = openai.OpenAI(api_key="x", base_url="http://127.0.0.1:9/v1", max_retries=0)

    def swallowing_code() -> None:  # the SDK turns the miss into its own error, which the code ignores
        with contextlib.suppress(openai.APIConnectionError):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "other"}])

    with pytest.raises(ReplayMismatchError, match="matches no recorded interaction"), Cassette(path):
        swallowing_code()
