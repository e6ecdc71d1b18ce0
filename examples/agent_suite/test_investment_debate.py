"""A bull/bear debate over two rounds, judged by Claude."""

from __future__ import annotations

import pytest
from pyagent_patterns.base import Agent
from pyagent_patterns.resolution import Debate

from pyagent_trace import traced_agent, traced_pattern


@traced_pattern
class TracedDebate(Debate):
    pass


def build(llm_for) -> TracedDebate:
    return TracedDebate(
        debaters=[
            traced_agent(Agent("bull", llm_for("bull", "gemini-2.5-flash"), system_prompt="Argue the bull case.")),
            traced_agent(Agent("bear", llm_for("bear", "gemini-2.5-flash"), system_prompt="Argue the bear case.")),
        ],
        judge=traced_agent(
            Agent("judge", llm_for("judge", "claude-sonnet-4-20250514"), system_prompt="Render a final verdict.")
        ),
        rounds=2,
    )


@pytest.mark.cassette
@pytest.mark.cost_budget(usd=0.02, tokens=5_000, calls=5)
async def test_judge_renders_a_verdict(llm_for, cost_tracker):
    result = await build(llm_for).run("Should we buy Nvidia at $3.2T market cap?")
    assert result.output.startswith("HOLD")
    assert result.metadata["rounds"] == 2
    assert cost_tracker.call_count == 5
    cost_tracker.assert_under(usd=0.02)


@pytest.mark.cassette
async def test_debate_span_tree_matches_snapshot(llm_for, span_tree, snapshot):
    await build(llm_for).run("Should we buy Nvidia at $3.2T market cap?")
    assert span_tree == snapshot


@pytest.mark.cassette
async def test_debate_span_records_rounds_and_total_cost(llm_for, spans, cost_tracker):
    await build(llm_for).run("Should we buy Nvidia at $3.2T market cap?")
    debate = spans.one("invoke_workflow debate")
    assert debate.attributes["pyagent.pattern.rounds"] == 2
    assert [s.name for s in spans if s.name.startswith("invoke_agent")] == [
        "invoke_agent bull",
        "invoke_agent bear",
        "invoke_agent bull",
        "invoke_agent bear",
        "invoke_agent judge",
    ]
    assert debate.attributes["pyagent.cost.total_usd"] > 0
