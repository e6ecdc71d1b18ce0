"""The README's framework recipes, verbatim: one test file per framework, written into a
field project by tests/field/test_frameworks.py (README "Agent frameworks")."""

from __future__ import annotations

RECIPES = {
    # module name of the framework -> (test file, its text)
    "langchain_openai": (
        "test_langchain.py",
        """
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI


@pytest.mark.cassette
def test_langchain(cost_tracker, span_tree, snapshot):
    planner = ChatOpenAI(model="gpt-4o-mini").with_config(run_name="planner")  # the run name is the agent
    critic = ChatAnthropic(model="claude-haiku-4-5")
    plan = planner.invoke("Plan a day in Rome")
    critic.invoke(f"Review: {plan.content}", config={"run_name": "critic"})
    assert set(cost_tracker.by_agent()) == {"planner", "critic"}
    assert span_tree == snapshot
""",
    ),
    "pydantic_ai": (
        "test_pydantic_ai.py",
        '''
import pytest
from pydantic_ai import Agent


def forecast(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


@pytest.mark.cassette
def test_pydantic_ai(cost_tracker, span_tree, snapshot):
    agent = Agent("openai:gpt-4o-mini", name="weather", tools=[forecast])  # in the test: keys exist then
    result = agent.run_sync("Weather in Paris?")
    assert result.output
    assert cost_tracker.call_count == 2  # the tool call, then the answer
    assert set(cost_tracker.by_agent()) == {"weather"}
    assert span_tree == snapshot
''',
    ),
    "agents": (
        "test_openai_agents.py",
        """
import pytest
from agents import Agent, Runner


@pytest.mark.cassette
def test_openai_agents(cost_tracker, span_tree, snapshot):
    agent = Agent(name="triage", instructions="Answer in one line.", model="gpt-4o-mini")
    result = Runner.run_sync(agent, "Where is my order?")  # its tracing stays on
    assert result.final_output
    assert set(cost_tracker.by_agent()) == {"triage"}
    assert span_tree == snapshot
""",
    ),
    "litellm": (
        "test_litellm.py",
        """
import litellm
import pytest


@pytest.mark.cassette
def test_litellm(cost_tracker, span_tree, snapshot):
    reply = litellm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "Summarise the plan"}])
    assert reply.choices[0].message.content
    assert cost_tracker.call_count == 1
    assert span_tree == snapshot
""",
    ),
    "instructor": (
        "test_instructor.py",
        """
import instructor
import pytest
from openai import OpenAI
from pydantic import BaseModel


class Trip(BaseModel):
    city: str
    days: int


@pytest.mark.cassette
def test_instructor(cost_tracker, span_tree, snapshot):
    client = instructor.from_openai(OpenAI())  # in the test: keys exist then
    trip = client.chat.completions.create(
        model="gpt-4o-mini", response_model=Trip, messages=[{"role": "user", "content": "3 days in Rome"}]
    )
    assert isinstance(trip, Trip)
    assert cost_tracker.call_count == 1
    assert span_tree == snapshot
""",
    ),
}

CONFTEST = '''
"""Points the SDKs at the fake provider (FAKE_BASE), and checks each call has one span."""

import os

import pytest

os.environ["OPENAI_BASE_URL"] = os.environ["FAKE_BASE"] + "/v1"
os.environ["ANTHROPIC_BASE_URL"] = os.environ["FAKE_BASE"]


@pytest.fixture(autouse=True)
def one_usage_span_per_call(spans, cost_tracker):
    yield
    usage_spans = [s for s in spans if "gen_ai.usage.input_tokens" in (s.attributes or {})]
    assert len(usage_spans) == cost_tracker.call_count, [s.name for s in spans]
'''

BACKGROUND_TEST = (
    "test_background.py",
    '''
"""What the frameworks send on their own, run during a replayed test: none of it is a call."""

import pytest


@pytest.mark.cassette(record_mode="none")  # replays in every phase: the network is blocked
def test_background_traffic_is_no_call(cost_tracker):
    import litellm
    from agents import trace
    from agents.tracing import flush_traces
    from langsmith import Client
    from litellm.litellm_core_utils.get_model_cost_map import get_model_cost_map

    assert get_model_cost_map(url=litellm.model_cost_map_url)  # what `import litellm` fetches: its own copy
    with trace("background"):
        pass
    flush_traces()  # the Agents SDK's trace export, POST /v1/traces/ingest
    client = Client(api_key="lsv2_pt_fake", api_url="https://api.smith.langchain.com")
    assert client.info is not None  # GET /info
    client.create_run("background", inputs={"q": 1}, run_type="chain")  # POST /runs/multipart
    client.flush()
    assert cost_tracker.call_count == 0
''',
)
