"""A two-stage research pipeline: extract facts with Claude, write a brief with GPT."""

from __future__ import annotations

import pytest
from pyagent_patterns.base import Agent
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import traced_agent, traced_pattern


@traced_pattern
class ResearchPipeline(Pipeline):
    pass


def build(llm_for) -> ResearchPipeline:
    return ResearchPipeline(
        stages=[
            traced_agent(
                Agent(
                    "extractor", llm_for("extractor", "claude-3-5-haiku-20241022"), system_prompt="Extract key facts."
                )
            ),
            traced_agent(Agent("writer", llm_for("writer", "gpt-4o-mini"), system_prompt="Write a concise brief.")),
        ]
    )


@pytest.mark.cassette
@pytest.mark.cost_budget(usd=0.01, calls=2)
async def test_brief_mentions_revenue_and_margin(llm_for, cost_tracker):
    result = await build(llm_for).run("Tesla Q3 2025 earnings report: revenue, margins, deliveries.")
    assert "$25.2B" in result.output
    assert "17.1%" in result.output
    assert cost_tracker.by_agent().keys() == {"extractor", "writer"}


@pytest.mark.cassette
async def test_span_tree_matches_snapshot(llm_for, span_tree, snapshot):
    await build(llm_for).run("Tesla Q3 2025 earnings report: revenue, margins, deliveries.")
    assert span_tree == snapshot


@pytest.mark.cassette
async def test_each_stage_is_an_agent_span_under_the_pipeline(llm_for, spans):
    await build(llm_for).run("Tesla Q3 2025 earnings report: revenue, margins, deliveries.")
    pipeline = spans.one("invoke_workflow pipeline")
    writer = spans.one("invoke_agent writer")
    assert writer.parent is not None
    assert writer.parent.span_id == pipeline.context.span_id
    assert writer.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert pipeline.attributes["pyagent.pattern.type"] == "pipeline"
