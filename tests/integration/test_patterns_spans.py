"""Spans from real pyagent-patterns runs: the docs' decorator and manual examples."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.trace import StatusCode
from pyagent_patterns.base import Agent, MockLLM
from pyagent_patterns.orchestration import Pipeline
from pyagent_patterns.resolution import Debate

from pyagent_trace import attributes as attr
from pyagent_trace._tokens import count_tokens
from pyagent_trace.spans import PatternSpanEmitter, traced_agent, traced_pattern
from pyagent_trace.testing import (
    DURATION_PLACEHOLDER,
    InMemorySpanExporter,
    find_spans,
    make_test_tracer_provider,
    spans_to_tree,
)


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter):
    return make_test_tracer_provider(exporter)


class ModelMockLLM(MockLLM):
    """MockLLM that names its model, as the docs' AnthropicLLM / OpenAILLM do."""

    def __init__(self, model: str, responses: list[str]) -> None:
        super().__init__(responses)
        self._model = model


def children(node):
    return [(child["name"], child["attributes"].get(attr.PATTERN_TYPE)) for child in node["children"]]


async def test_traced_pipeline_of_two_traced_agents_gives_one_pattern_span_with_two_agent_children(exporter, provider):
    @traced_pattern(tracer_provider=provider)
    class TracedPipeline(Pipeline):
        pass

    facts = "Revenue $25.2B, margin 17.1%."
    brief = "Tesla grew revenue to $25.2B."
    pipeline = TracedPipeline(
        stages=[
            traced_agent(
                Agent("extractor", ModelMockLLM("claude-haiku-3-5-20241022", [facts]), "Extract key facts."),
                tracer_provider=provider,
            ),
            traced_agent(
                Agent("writer", ModelMockLLM("gpt-4o-mini", [brief]), "Write a concise brief."),
                tracer_provider=provider,
            ),
        ]
    )
    result = await pipeline.run("Tesla Q3 2025 earnings report...")

    (root,) = spans_to_tree(exporter.get_finished_spans())
    extractor, writer = root["children"]
    assert root["name"] == "invoke_workflow pipeline"
    assert [extractor["name"], writer["name"]] == ["invoke_agent extractor", "invoke_agent writer"]
    assert extractor["attributes"] == {
        attr.AGENT_NAME: "extractor",
        attr.AGENT_MODEL: "claude-haiku-3-5-20241022",
        attr.COST_ESTIMATED: True,
        attr.COST_INPUT_TOKENS: count_tokens("Extract key facts.") + count_tokens("Tesla Q3 2025 earnings report..."),
        attr.COST_OUTPUT_TOKENS: count_tokens(facts),
        attr.COST_TOTAL_USD: extractor["attributes"][attr.COST_TOTAL_USD],
        attr.EXEC_DURATION_MS: DURATION_PLACEHOLDER,
        attr.GEN_AI_AGENT_NAME: "extractor",
        attr.GEN_AI_OPERATION_NAME: "invoke_agent",
        attr.GEN_AI_PROVIDER_NAME: "anthropic",
        attr.GEN_AI_REQUEST_MODEL: "claude-haiku-3-5-20241022",
        attr.GEN_AI_USAGE_INPUT_TOKENS: extractor["attributes"][attr.COST_INPUT_TOKENS],
        attr.GEN_AI_USAGE_OUTPUT_TOKENS: count_tokens(facts),
    }
    assert writer["attributes"][attr.GEN_AI_PROVIDER_NAME] == "openai"
    agent_usd = extractor["attributes"][attr.COST_TOTAL_USD] + writer["attributes"][attr.COST_TOTAL_USD]
    assert root["attributes"] == {
        attr.COST_ESTIMATED: True,
        attr.COST_INPUT_TOKENS: extractor["attributes"][attr.COST_INPUT_TOKENS]
        + writer["attributes"][attr.COST_INPUT_TOKENS],
        attr.COST_OUTPUT_TOKENS: count_tokens(facts) + count_tokens(brief),
        attr.COST_TOTAL_USD: pytest.approx(agent_usd),
        attr.EARLY_STOP: False,
        attr.EXEC_DURATION_MS: DURATION_PLACEHOLDER,
        attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INVOKE_WORKFLOW,
        attr.GEN_AI_WORKFLOW_NAME: "pipeline",
        attr.PATTERN_OUTPUT_LEN: len(result.output),
        attr.PATTERN_TYPE: "pipeline",
    }


def _debaters(provider=None):
    def agent(name: str, model: str, reply: str) -> Agent:
        built = Agent(name, ModelMockLLM(model, [reply]), system_prompt=f"Argue as {name}.")
        return built if provider is None else traced_agent(built, tracer_provider=provider)

    return {
        "debaters": [
            agent("bull", "gemini-2.5-flash", "Data-centre demand keeps growing."),
            agent("bear", "gemini-2.5-flash", "The valuation prices in perfection."),
        ],
        "judge": agent("judge", "claude-sonnet-4-20250514", "HOLD: wait for a better entry."),
        "rounds": 2,
    }


async def test_traced_debate_with_two_rounds_has_rounds_2_and_five_agent_spans(exporter, provider):
    @traced_pattern(tracer_provider=provider)
    class TracedDebate(Debate):
        pass

    await TracedDebate(**_debaters(provider)).run("Should we buy Nvidia?")
    (root,) = spans_to_tree(exporter.get_finished_spans())
    assert root["attributes"][attr.PATTERN_ROUNDS] == 2
    assert [child["name"] for child in root["children"]] == [
        "invoke_agent bull",
        "invoke_agent bear",
        "invoke_agent bull",
        "invoke_agent bear",
        "invoke_agent judge",
    ]
    agent_usd = sum(child["attributes"][attr.COST_TOTAL_USD] for child in root["children"])
    assert root["attributes"][attr.COST_TOTAL_USD] == pytest.approx(agent_usd)


async def run_traced(emitter: PatternSpanEmitter, debate: Debate):
    """The product docs' "PatternSpanEmitter — Manual Control" example, verbatim in shape."""
    span = emitter.pattern_span("debate", attributes={"rounds": 2, "topic": "nvidia_investment"})
    try:
        result = await debate.run("Should we buy Nvidia at $3.2T market cap?")
        emitter.set_pattern_result(
            span,
            output_len=len(result.output),
            rounds=result.metadata.get("rounds", 2),
            cost_estimate=result.cost_estimate,
        )
        return result
    except Exception as exc:
        emitter.record_error(span, exc)
        raise
    finally:
        span.end()


async def test_docs_manual_emitter_example_nests_agent_spans_under_the_debate_span(exporter, provider):
    emitter = PatternSpanEmitter(service_name="investment-analysis", tracer_provider=provider)
    result = await run_traced(emitter, Debate(**_debaters(provider)))
    (root,) = spans_to_tree(exporter.get_finished_spans())
    assert root["name"] == "invoke_workflow debate"
    assert [name for name, _ in children(root)] == ["invoke_agent bull", "invoke_agent bear"] * 2 + [
        "invoke_agent judge"
    ]
    attrs = root["attributes"]
    assert attrs[attr.SERVICE_NAME] == "investment-analysis"
    assert attrs["pyagent.pattern.topic"] == "nvidia_investment"
    assert (attrs[attr.PATTERN_ROUNDS], attrs[attr.PATTERN_OUTPUT_LEN]) == (2, len(result.output))
    # pyagent-patterns reports cost_estimate=0.0: the traced agents' total is kept instead.
    agent_usd = sum(child["attributes"][attr.COST_TOTAL_USD] for child in root["children"])
    assert attrs[attr.COST_TOTAL_USD] == pytest.approx(agent_usd)


async def test_docs_manual_emitter_example_records_a_failing_judge(exporter, provider):
    class DownLLM:
        async def __call__(self, messages):
            raise TimeoutError("judge timed out")

    setup = _debaters(provider)
    setup["judge"] = traced_agent(Agent("judge", DownLLM()), tracer_provider=provider)
    emitter = PatternSpanEmitter(service_name="investment-analysis", tracer_provider=provider)
    with pytest.raises(TimeoutError):
        await run_traced(emitter, Debate(**setup))
    spans = exporter.get_finished_spans()
    (debate,) = find_spans(spans, "invoke_workflow debate")
    (judge,) = find_spans(spans, "invoke_agent judge")
    assert debate.status.status_code is judge.status.status_code is StatusCode.ERROR
    assert debate.attributes[attr.ERROR_TYPE] == "TimeoutError"
    assert judge.parent.span_id == debate.context.span_id


async def test_errors_are_recorded_on_the_agent_and_pattern_spans_and_reraised(exporter, provider):
    class DownLLM:
        _model = "gpt-4o"

        async def __call__(self, messages):
            raise ConnectionError("provider unavailable")

    @traced_pattern(tracer_provider=provider)
    class TracedPipeline(Pipeline):
        pass

    pipeline = TracedPipeline(stages=[traced_agent(Agent("extractor", DownLLM()), tracer_provider=provider)])
    with pytest.raises(ConnectionError, match="provider unavailable"):
        await pipeline.run("task")
    spans = exporter.get_finished_spans()
    for span in spans:
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "ConnectionError: provider unavailable"
        assert span.attributes[attr.ERROR_TYPE] == "ConnectionError"
    assert len(spans) == 2


async def test_two_traced_debates_gathered_concurrently_make_two_trees(exporter, provider):
    @traced_pattern(tracer_provider=provider)
    class TracedDebate(Debate):
        pass

    await asyncio.gather(
        TracedDebate(**_debaters(provider)).run("Buy?"), TracedDebate(**_debaters(provider)).run("Sell?")
    )
    trees = spans_to_tree(exporter.get_finished_spans())
    assert [len(tree["children"]) for tree in trees] == [5, 5]
