"""Test modules of the user projects that more than one field test runs."""

from __future__ import annotations

# Two unmarked async cassette tests (pytest-asyncio auto mode): 3 LLM calls in all.
AGENT_TESTS = """
import pytest
from fake_llm import FakeLLM, ask


@pytest.mark.cassette
async def test_summary(cassette, cost_tracker):
    llm = cassette.llm(FakeLLM(), agent_name="writer")
    assert await llm(ask("summarise Q3")) == "reply: summarise Q3"
    assert cost_tracker.call_count == 1


@pytest.mark.cassette
async def test_plan(cassette):
    llm = cassette.llm(FakeLLM(), agent_name="planner")
    assert await llm(ask("step one")) == "reply: step one"
    assert await llm(ask("step two")) == "reply: step two"
"""
AGENT_CALLS = 3
AGENT_CASSETTES = ("test_summary", "test_plan")

# A pytest-recording test (httpx to the fake server, under VCR) beside a cassette test.
# Sync on purpose: it also runs with plugin autoload off, where pytest-asyncio is absent.
VCR_AND_CASSETTE = """
import asyncio
import os

import httpx
import pytest
from fake_llm import FakeLLM, ask


@pytest.mark.vcr
def test_weather_api():
    response = httpx.post(
        os.environ["FAKE_BASE"] + "/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "weather?"}]},
        headers={"accept-encoding": "identity"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["usage"]["prompt_tokens"] == 120


@pytest.mark.cassette
def test_agent(cassette, cost_tracker):
    llm = cassette.llm(FakeLLM(), agent_name="writer")
    assert asyncio.run(llm(ask("hello"))) == "reply: hello"
    assert cost_tracker.call_count == 1
"""
