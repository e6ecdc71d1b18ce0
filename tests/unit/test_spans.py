"""traced_agent, traced_pattern and PatternSpanEmitter against a local provider."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from pyagent_trace import attributes as attr
from pyagent_trace._tokens import count_tokens
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.pricing import DEFAULT_PRICES
from pyagent_trace.spans import PatternSpanEmitter, traced_agent, traced_pattern
from pyagent_trace.testing import InMemorySpanExporter, find_spans, make_test_tracer_provider


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter):
    return make_test_tracer_provider(exporter)


@dataclass
class Msg:
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)


class FakeLLM:
    """An async LLM with a model name, like pyagent-providers' adapters."""

    def __init__(self, reply: str = "abcdefgh", model: str | None = "gpt-4o-mini") -> None:
        self._reply = reply
        if model is not None:
            self._model = model

    async def __call__(self, messages: list[Any]) -> str:
        return self._reply


@dataclass
class FakeAgent:
    """Shaped like pyagent_patterns.base.Agent: name, llm, system_prompt, async run."""

    name: str
    llm: Any = field(default_factory=FakeLLM)
    system_prompt: str = ""
    reply_metadata: dict[str, Any] = field(default_factory=dict)

    async def run(self, messages: list[Any]) -> Msg:
        return Msg(await self.llm(messages), metadata=self.reply_metadata)


def one(spans, name=None, **attributes):
    found = find_spans(spans, name, **attributes)
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def is_child(child, parent) -> bool:
    return child.parent is not None and child.parent.span_id == parent.context.span_id


# -- traced_agent ---------------------------------------------------------------------------
async def test_traced_agent_span_is_named_invoke_agent_with_static_gen_ai_attributes(exporter, provider):
    agent = traced_agent(FakeAgent("writer"), tracer_provider=provider)
    await agent.run([Msg("hello")])
    span = one(exporter.get_finished_spans())
    assert span.name == "invoke_agent writer"
    assert span.kind is SpanKind.INTERNAL
    assert span.attributes[attr.AGENT_NAME] == "writer"
    assert span.attributes[attr.GEN_AI_AGENT_NAME] == "writer"
    assert span.attributes[attr.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert span.attributes[attr.AGENT_MODEL] == "gpt-4o-mini"
    assert span.attributes[attr.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert span.attributes[attr.GEN_AI_PROVIDER_NAME] == "openai"
    assert span.attributes[attr.EXEC_DURATION_MS] >= 0


async def test_traced_agent_estimates_tokens_from_messages_system_prompt_and_reply(exporter, provider):
    agent = FakeAgent("writer", FakeLLM(reply="The answer is 42."), system_prompt="Be brief.")
    traced_agent(agent, tracer_provider=provider)
    await agent.run([Msg("What is six times seven?"), Msg("Answer in one line.")])
    expected_in = sum(map(count_tokens, ["Be brief.", "What is six times seven?", "Answer in one line."]))
    expected = (expected_in, count_tokens("The answer is 42."))
    attrs = one(exporter.get_finished_spans()).attributes
    assert (attrs[attr.COST_INPUT_TOKENS], attrs[attr.COST_OUTPUT_TOKENS]) == expected
    assert (attrs[attr.GEN_AI_USAGE_INPUT_TOKENS], attrs[attr.GEN_AI_USAGE_OUTPUT_TOKENS]) == expected
    assert attrs[attr.COST_ESTIMATED] is True


async def test_traced_agent_recounts_the_system_prompt_when_it_is_replaced(exporter, provider):
    agent = traced_agent(FakeAgent("w", system_prompt="Be brief."), tracer_provider=provider)
    await agent.run([])
    agent.system_prompt = "Be brief, polite and precise, and cite every source you use."
    await agent.run([])
    first, second = (span.attributes[attr.COST_INPUT_TOKENS] for span in exporter.get_finished_spans())
    assert (first, second) == (count_tokens("Be brief."), count_tokens(agent.system_prompt))


async def test_traced_agent_prices_a_known_model_like_the_price_table(exporter, provider):
    model = "claude-sonnet-4-20250514"
    agent = traced_agent(FakeAgent("w", FakeLLM("Hold. " * 50, model)), tracer_provider=provider)
    await agent.run([Msg("Should we buy? " * 100)])
    attrs = one(exporter.get_finished_spans()).attributes
    expected = DEFAULT_PRICES.cost(model, count_tokens("Should we buy? " * 100), count_tokens("Hold. " * 50))
    assert attrs[attr.COST_TOTAL_USD] == pytest.approx(expected)
    assert attr.COST_UNPRICED not in attrs


async def test_traced_agent_marks_an_unknown_model_unpriced_instead_of_zero_dollars(exporter, provider):
    agent = traced_agent(FakeAgent("w", FakeLLM(model="my-local-llama")), tracer_provider=provider)
    await agent.run([Msg("hi")])
    attrs = one(exporter.get_finished_spans()).attributes
    assert attrs[attr.COST_UNPRICED] is True
    assert attr.COST_TOTAL_USD not in attrs
    assert attr.GEN_AI_PROVIDER_NAME not in attrs


async def test_traced_agent_uses_a_given_price_table(exporter, provider):
    prices = DEFAULT_PRICES.with_overrides({"my-local-llama": {"input": 1.0, "output": 2.0}})
    agent = FakeAgent("w", FakeLLM("Hold.", model="my-local-llama"))
    traced_agent(agent, tracer_provider=provider, prices=prices)
    await agent.run([Msg("Buy?")])
    expected = (count_tokens("Buy?") * 1.0 + count_tokens("Hold.") * 2.0) / 1e6
    assert one(exporter.get_finished_spans()).attributes[attr.COST_TOTAL_USD] == pytest.approx(expected)


async def test_traced_agent_omits_the_model_when_the_llm_has_none(exporter, provider):
    agent = traced_agent(FakeAgent("w", FakeLLM(model=None)), tracer_provider=provider)
    await agent.run([Msg("hi")])
    attrs = one(exporter.get_finished_spans()).attributes
    assert not {attr.AGENT_MODEL, attr.GEN_AI_REQUEST_MODEL, attr.GEN_AI_PROVIDER_NAME} & set(attrs)
    assert attrs[attr.COST_UNPRICED] is True


@pytest.mark.parametrize("attribute", ["model", "model_name"])
async def test_traced_agent_reads_the_model_from_model_or_model_name(exporter, provider, attribute):
    llm = FakeLLM(model=None)
    setattr(llm, attribute, "gemini-2.5-flash")
    await traced_agent(FakeAgent("w", llm), tracer_provider=provider).run([])
    attrs = one(exporter.get_finished_spans()).attributes
    assert attrs[attr.AGENT_MODEL] == "gemini-2.5-flash"
    assert attrs[attr.GEN_AI_PROVIDER_NAME] == "gcp.gemini"


@pytest.mark.parametrize(
    ("model", "provider_name"),
    [
        ("gpt-4o", "openai"),
        ("o1-mini", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("openai/gpt-4.1", "openai"),
        ("claude-haiku-4-5", "anthropic"),
        ("gemini-2.0-flash", "gcp.gemini"),
    ],
)
async def test_traced_agent_infers_the_provider_from_the_model_name(exporter, provider, model, provider_name):
    await traced_agent(FakeAgent("w", FakeLLM(model=model)), tracer_provider=provider).run([])
    assert one(exporter.get_finished_spans()).attributes[attr.GEN_AI_PROVIDER_NAME] == provider_name


async def test_traced_agent_copies_compression_savings_from_the_reply_metadata(exporter, provider):
    agent = traced_agent(FakeAgent("w", reply_metadata={"savings_pct": 42.5}), tracer_provider=provider)
    await agent.run([Msg("hi")])
    assert one(exporter.get_finished_spans()).attributes[attr.COMPRESS_SAVINGS_PCT] == 42.5


async def test_traced_agent_returns_the_same_agent_and_tracing_twice_adds_no_second_span(exporter, provider):
    agent = FakeAgent("w")
    assert traced_agent(agent, tracer_provider=provider) is agent
    assert traced_agent(agent, tracer_provider=provider) is agent
    reply = await agent.run([Msg("hi")])
    assert reply.content == "abcdefgh"
    assert len(exporter.get_finished_spans()) == 1


async def test_traced_agent_keeps_the_run_signature_and_passes_keyword_messages(exporter, provider):
    agent = FakeAgent("w")
    before = inspect.signature(agent.run)
    traced_agent(agent, tracer_provider=provider)
    assert inspect.signature(agent.run) == before
    await agent.run(messages=[Msg("Summarise this.")])
    assert one(exporter.get_finished_spans()).attributes[attr.COST_INPUT_TOKENS] == count_tokens("Summarise this.")


def test_traced_agent_traces_a_sync_run(exporter, provider):
    class SyncAgent:
        name = "sync"

        def run(self, messages: list[str]) -> str:
            return "abcd"

    agent = traced_agent(SyncAgent(), tracer_provider=provider)
    assert agent.run(["plain string message"]) == "abcd"
    attrs = one(exporter.get_finished_spans(), "invoke_agent sync").attributes
    expected = (count_tokens("plain string message"), count_tokens("abcd"))
    assert (attrs[attr.COST_INPUT_TOKENS], attrs[attr.COST_OUTPUT_TOKENS]) == expected


async def test_traced_agent_names_an_agent_without_name_after_its_class(exporter, provider):
    class Anonymous:
        async def run(self, messages: list[Any]) -> str:
            return ""

    await traced_agent(Anonymous(), tracer_provider=provider).run([{"role": "user", "content": "Hi there"}])
    span = one(exporter.get_finished_spans())
    assert span.name == "invoke_agent Anonymous"
    assert span.attributes[attr.COST_INPUT_TOKENS] == count_tokens("Hi there")


async def test_traced_agent_records_an_error_and_reraises_it(exporter, provider):
    class Boom:
        async def __call__(self, messages: list[Any]) -> str:
            raise ValueError("model down")

    agent = traced_agent(FakeAgent("w", Boom()), tracer_provider=provider)
    with pytest.raises(ValueError, match="model down"):
        await agent.run([Msg("hi")])
    span = one(exporter.get_finished_spans())
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: model down"
    assert span.attributes[attr.ERROR_TYPE] == "ValueError"
    assert span.attributes[attr.AGENT_NAME] == "w"
    assert [event.name for event in span.events] == ["exception"]


async def test_a_reply_that_cannot_be_counted_still_returns_and_logs_once(exporter, provider, caplog):
    class OddReply:
        @property
        def content(self) -> str:
            raise RuntimeError("lazy content failed")

    class OddAgent:
        name = "odd"

        async def run(self, messages: list[Any]) -> OddReply:
            return OddReply()

    agent = traced_agent(OddAgent(), tracer_provider=provider)
    for _ in range(2):
        assert isinstance(await agent.run([]), OddReply)
    spans = exporter.get_finished_spans()
    assert [s.attributes[attr.COST_OUTPUT_TOKENS] for s in spans] == [0, 0]
    assert [s.status.status_code for s in spans] == [StatusCode.UNSET, StatusCode.UNSET]
    assert len([r for r in caplog.records if "Could not count tokens" in r.message]) == 1


async def test_spans_started_inside_the_agent_run_nest_under_the_agent_span(exporter, provider):
    tracer = provider.get_tracer("llm-sdk")

    class InstrumentedLLM:
        async def __call__(self, messages: list[Any]) -> str:
            with tracer.start_as_current_span("chat gpt-4o"):
                return "ok"

    await traced_agent(FakeAgent("w", InstrumentedLLM()), tracer_provider=provider).run([])
    agent_span = one(exporter.get_finished_spans(), "invoke_agent w")
    assert is_child(one(exporter.get_finished_spans(), "chat gpt-4o"), agent_span)


def test_traced_agent_refuses_an_object_without_run():
    with pytest.raises(ConfigError, match="run"):
        traced_agent(object())


def test_traced_agent_explains_why_a_slots_object_cannot_be_traced(provider):
    class Slotted:
        __slots__ = ()

        async def run(self, messages: list[Any]) -> str:
            return ""

    with pytest.raises(ConfigError, match="__slots__"):
        traced_agent(Slotted(), tracer_provider=provider)


def test_tracing_never_installs_a_global_tracer_provider(provider):
    traced_agent(FakeAgent("w"), tracer_provider=provider)
    PatternSpanEmitter("svc", tracer_provider=provider)
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def test_a_global_provider_installed_after_decorating_still_gets_the_spans():
    """Decorating at import time must not freeze the no-op tracer (run in a subprocess)."""
    code = textwrap.dedent(
        """
        import asyncio
        from opentelemetry import trace
        from pyagent_patterns.base import Agent, MockLLM
        from pyagent_patterns.orchestration import Pipeline
        from pyagent_trace.spans import traced_agent, traced_pattern
        from pyagent_trace.testing import InMemorySpanExporter, make_test_tracer_provider

        @traced_pattern
        class TracedPipeline(Pipeline):
            pass

        pipeline = TracedPipeline(stages=[traced_agent(Agent("a", MockLLM(["x"])))])
        exporter = InMemorySpanExporter()
        trace.set_tracer_provider(make_test_tracer_provider(exporter))
        asyncio.run(pipeline.run("task"))
        print(sorted(span.name for span in exporter.get_finished_spans()))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['invoke_agent a', 'invoke_workflow pipeline']"


# -- traced_pattern -------------------------------------------------------------------------
@dataclass
class Outcome:
    output: str
    metadata: dict[str, Any] = field(default_factory=dict)


class Sequential:
    """A minimal pattern: runs its agents one after the other."""

    pattern_type = "sequential"

    def __init__(self, *agents: Any, metadata: dict[str, Any] | None = None) -> None:
        self.agents = agents
        self.metadata = metadata or {}

    async def run(self, task: str, context: Any = None) -> Outcome:
        output = task
        for agent in self.agents:
            output = (await agent.run([Msg(output)])).content
        return Outcome(output, dict(self.metadata))


class Parallel(Sequential):
    pattern_type = "parallel"

    async def run(self, task: str, context: Any = None) -> Outcome:
        replies = await asyncio.gather(*(agent.run([Msg(task)]) for agent in self.agents))
        return Outcome(" ".join(reply.content for reply in replies))


def traced(cls, provider):
    return traced_pattern(tracer_provider=provider)(type(f"Traced{cls.__name__}", (cls,), {}))


def agents(provider, *names, model="gpt-4o-mini"):
    return [traced_agent(FakeAgent(name, FakeLLM(model=model)), tracer_provider=provider) for name in names]


async def test_traced_pattern_span_holds_agent_spans_in_order(exporter, provider):
    pattern = traced(Sequential, provider)(*agents(provider, "a", "b"))
    await pattern.run("task")
    spans = exporter.get_finished_spans()
    root = one(spans, "invoke_workflow sequential")
    children = sorted((s for s in spans if is_child(s, root)), key=lambda s: s.start_time)
    assert [s.name for s in children] == ["invoke_agent a", "invoke_agent b"]
    assert root.parent is None
    assert root.attributes[attr.PATTERN_TYPE] == "sequential"


def test_traced_pattern_works_bare_and_with_arguments():
    @traced_pattern
    class Bare(Sequential):
        pass

    @traced_pattern(tracer_provider=None)
    class Called(Sequential):
        pass

    assert getattr(Bare.run, "__pyagent_traced__", False)
    assert getattr(Called.run, "__pyagent_traced__", False)


def test_traced_pattern_keeps_the_run_signature_and_leaves_the_base_class_alone(provider):
    traced_cls = traced(Sequential, provider)
    assert inspect.signature(traced_cls.run) == inspect.signature(Sequential.run)
    assert traced_cls.run.__wrapped__ is Sequential.run
    assert not hasattr(Sequential.run, "__pyagent_traced__")


async def test_traced_pattern_names_a_pattern_without_pattern_type_after_its_class(exporter, provider):
    @traced_pattern(tracer_provider=provider)
    class MyRouter:
        async def run(self, task: str, context: Any = None) -> str:
            return task

    await MyRouter().run("abc")
    span = one(exporter.get_finished_spans(), "invoke_workflow myrouter")
    assert span.attributes[attr.PATTERN_OUTPUT_LEN] == 3


@pytest.mark.parametrize(
    ("metadata", "early_stop"),
    [({}, False), ({"early_stop": True}, True), ({"stopped_early": True}, True), ({"converged": True}, True)],
)
async def test_traced_pattern_reads_early_stop_from_result_metadata(exporter, provider, metadata, early_stop):
    await traced(Sequential, provider)(metadata=metadata).run("task")
    assert one(exporter.get_finished_spans()).attributes[attr.EARLY_STOP] is early_stop


async def test_traced_pattern_copies_rounds_router_fields_and_output_length(exporter, provider):
    metadata = {"rounds": 2, "difficulty": 7, "selected_model": "gpt-4o"}
    await traced(Sequential, provider)(metadata=metadata).run("four")
    attrs = one(exporter.get_finished_spans()).attributes
    assert attrs[attr.PATTERN_ROUNDS] == 2
    assert attrs[attr.ROUTER_DIFFICULTY] == 7
    assert attrs[attr.ROUTER_SELECTED_MODEL] == "gpt-4o"
    assert attrs[attr.PATTERN_OUTPUT_LEN] == 4
    assert attrs[attr.EXEC_DURATION_MS] >= 0


async def test_traced_pattern_sums_tokens_and_dollars_of_its_agent_spans(exporter, provider):
    await traced(Sequential, provider)(*agents(provider, "a", "b")).run("task")
    spans = exporter.get_finished_spans()
    pattern = one(spans, "invoke_workflow sequential").attributes
    agent_attrs = [s.attributes for s in find_spans(spans, **{attr.GEN_AI_OPERATION_NAME: "invoke_agent"})]
    for key in (attr.COST_INPUT_TOKENS, attr.COST_OUTPUT_TOKENS):
        assert pattern[key] == sum(a[key] for a in agent_attrs)
    assert pattern[attr.COST_TOTAL_USD] == pytest.approx(sum(a[attr.COST_TOTAL_USD] for a in agent_attrs))


async def test_traced_pattern_total_is_unpriced_when_one_agent_is(exporter, provider):
    team = [*agents(provider, "a"), *agents(provider, "b", model="mystery-model")]
    await traced(Sequential, provider)(*team).run("task")
    pattern = one(exporter.get_finished_spans(), "invoke_workflow sequential").attributes
    assert pattern[attr.COST_UNPRICED] is True
    assert attr.COST_TOTAL_USD not in pattern


async def test_traced_pattern_without_traced_agents_writes_no_cost_totals(exporter, provider):
    await traced(Sequential, provider)().run("task")
    assert attr.COST_INPUT_TOKENS not in one(exporter.get_finished_spans()).attributes


async def test_agents_gathered_concurrently_all_nest_under_their_pattern(exporter, provider):
    await traced(Parallel, provider)(*agents(provider, "a", "b", "c")).run("task")
    spans = exporter.get_finished_spans()
    root = one(spans, "invoke_workflow parallel")
    assert sorted(s.name for s in spans if is_child(s, root)) == [f"invoke_agent {n}" for n in "abc"]
    assert root.attributes[attr.COST_INPUT_TOKENS] == 3 * count_tokens("task")


async def test_two_patterns_gathered_concurrently_make_two_separate_trees(exporter, provider):
    first = traced(Parallel, provider)(*agents(provider, "a1", "a2"))
    second = traced(Sequential, provider)(*agents(provider, "b1", "b2"))
    await asyncio.gather(first.run("x"), second.run("y"))
    spans = exporter.get_finished_spans()
    for root_name, prefix in (
        ("invoke_workflow parallel", "invoke_agent a"),
        ("invoke_workflow sequential", "invoke_agent b"),
    ):
        root = one(spans, root_name)
        assert root.parent is None
        kids = [s for s in spans if s.name.startswith(prefix)]
        assert len(kids) == 2
        assert all(is_child(kid, root) for kid in kids)
    assert len({s.context.trace_id for s in spans}) == 2


class PatternAsAgent:
    """Lets a pattern run as one step of another pattern."""

    def __init__(self, pattern: Any) -> None:
        self.pattern = pattern

    async def run(self, messages: list[Any]) -> Msg:
        return Msg((await self.pattern.run(messages[0].content)).output)


async def test_nested_patterns_nest_and_the_outer_total_includes_the_inner_agents(exporter, provider):
    inner = traced(Sequential, provider)(*agents(provider, "inner"))
    outer = traced(Parallel, provider)(PatternAsAgent(inner), *agents(provider, "outer"))
    await outer.run("task")
    spans = exporter.get_finished_spans()
    outer_span = one(spans, "invoke_workflow parallel")
    inner_span = one(spans, "invoke_workflow sequential")
    assert is_child(inner_span, outer_span)
    assert is_child(one(spans, "invoke_agent inner"), inner_span)
    assert is_child(one(spans, "invoke_agent outer"), outer_span)
    one_agent = one(spans, "invoke_agent inner").attributes[attr.COST_INPUT_TOKENS]
    assert inner_span.attributes[attr.COST_INPUT_TOKENS] == one_agent
    assert outer_span.attributes[attr.COST_INPUT_TOKENS] == 2 * one_agent


def test_traced_pattern_traces_a_sync_run(exporter, provider):
    @traced_pattern(tracer_provider=provider)
    class SyncPattern:
        pattern_type = "sync"

        def run(self, task: str, context: Any = None) -> Outcome:
            return Outcome(task, {"rounds": 1})

    assert SyncPattern().run("abc").output == "abc"
    attrs = one(exporter.get_finished_spans(), "invoke_workflow sync").attributes
    assert (attrs[attr.PATTERN_ROUNDS], attrs[attr.PATTERN_OUTPUT_LEN]) == (1, 3)


async def test_traced_pattern_records_an_error_and_reraises_it(exporter, provider):
    @traced_pattern(tracer_provider=provider)
    class Failing(Sequential):
        async def run(self, task: str, context: Any = None) -> Outcome:
            raise RuntimeError("no quorum")

    with pytest.raises(RuntimeError, match="no quorum"):
        await Failing().run("task")
    span = one(exporter.get_finished_spans())
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[attr.ERROR_TYPE] == "RuntimeError"
    assert span.events[0].name == "exception"


def test_traced_pattern_records_an_error_in_a_sync_run(exporter, provider):
    @traced_pattern(tracer_provider=provider)
    class Failing:
        def run(self, task: str, context: Any = None) -> str:
            raise KeyError(task)

    with pytest.raises(KeyError):
        Failing().run("task")
    assert one(exporter.get_finished_spans()).status.status_code is StatusCode.ERROR


async def test_a_cancelled_pattern_run_still_ends_its_span_without_an_error(exporter, provider):
    started = asyncio.Event()

    @traced_pattern(tracer_provider=provider)
    class Slow:
        async def run(self, task: str, context: Any = None) -> str:
            started.set()
            await asyncio.sleep(3600)
            return task

    task = asyncio.create_task(Slow().run("x"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert one(exporter.get_finished_spans()).status.status_code is StatusCode.UNSET


def test_tracing_a_traced_class_or_its_subclass_again_adds_no_second_span(exporter, provider):
    @traced_pattern(tracer_provider=provider)
    class Once:
        def run(self, task: str, context: Any = None) -> str:
            return task

    again = traced_pattern(tracer_provider=provider)(Once)
    sub = traced_pattern(tracer_provider=provider)(type("Sub", (Once,), {}))
    again().run("a")
    sub().run("b")
    assert len(exporter.get_finished_spans()) == 2


def test_traced_pattern_refuses_a_class_without_run():
    with pytest.raises(ConfigError, match="run"):
        traced_pattern(type("NoRun", (), {}))


# -- traced_pattern: stream ---------------------------------------------------------------------
class Streaming(Sequential):
    pattern_type = "streaming"

    async def stream(self, task: str, context: Any = None):
        for agent in self.agents:
            yield (await agent.run([Msg(task)])).content


async def test_traced_stream_is_one_span_around_all_chunks_with_agents_nested(exporter, provider):
    pattern = traced(Streaming, provider)(*agents(provider, "a", "b"))
    chunks = [chunk async for chunk in pattern.stream("task")]
    assert chunks == ["abcdefgh", "abcdefgh"]
    spans = exporter.get_finished_spans()
    root = one(spans, "invoke_workflow streaming")
    assert all(is_child(s, root) for s in spans if s is not root)
    assert root.attributes[attr.PATTERN_OUTPUT_LEN] == 16
    assert root.attributes[attr.COST_OUTPUT_TOKENS] == 2 * count_tokens("abcdefgh")


async def test_traced_stream_span_is_not_current_in_the_consumers_code(exporter, provider):
    pattern = traced(Streaming, provider)(*agents(provider, "a"))
    async for _chunk in pattern.stream("task"):
        assert not trace.get_current_span().is_recording()


async def test_traced_stream_stopped_early_ends_its_span_without_error(exporter, provider):
    pattern = traced(Streaming, provider)(*agents(provider, "a", "b"))
    stream = pattern.stream("task")
    assert await anext(stream) == "abcdefgh"
    await stream.aclose()
    root = one(exporter.get_finished_spans(), "invoke_workflow streaming")
    assert root.status.status_code is StatusCode.UNSET
    assert root.attributes[attr.PATTERN_OUTPUT_LEN] == 8


async def test_traced_stream_records_an_error_and_reraises_it(exporter, provider):
    class Broken(Streaming):
        async def stream(self, task: str, context: Any = None):
            yield "part"
            raise OSError("connection reset")

    pattern = traced(Broken, provider)()
    with pytest.raises(OSError, match="connection reset"):
        _ = [chunk async for chunk in pattern.stream("task")]
    assert one(exporter.get_finished_spans()).status.status_code is StatusCode.ERROR


async def test_a_stream_that_calls_run_makes_one_pattern_span_not_two(exporter, provider):
    class RunThenStream(Sequential):
        pattern_type = "wrapped"

        async def stream(self, task: str, context: Any = None):
            yield (await self.run(task, context)).output

    pattern = traced(RunThenStream, provider)(*agents(provider, "a"))
    assert [chunk async for chunk in pattern.stream("task")] == ["abcdefgh"]
    spans = exporter.get_finished_spans()
    assert sorted(s.name for s in spans) == ["invoke_agent a", "invoke_workflow wrapped"]
    assert is_child(one(spans, "invoke_agent a"), one(spans, "invoke_workflow wrapped"))


# -- PatternSpanEmitter ---------------------------------------------------------------------
@pytest.fixture
def emitter(provider):
    return PatternSpanEmitter(service_name="investment-analysis", tracer_provider=provider)


def test_pattern_span_is_started_but_not_made_current(exporter, emitter):
    span = emitter.pattern_span("debate")
    assert span.is_recording()
    assert trace.get_current_span() is not span
    span.end()
    assert one(exporter.get_finished_spans()).name == "invoke_workflow debate"


def test_pattern_span_qualifies_short_attribute_keys_and_keeps_dotted_ones(exporter, emitter):
    span = emitter.pattern_span("debate", attributes={"rounds": 2, "topic": "nvidia", "app.user": "u1"})
    span.end()
    attrs = one(exporter.get_finished_spans()).attributes
    assert attrs[attr.PATTERN_ROUNDS] == 2
    assert attrs["pyagent.pattern.topic"] == "nvidia"
    assert attrs["app.user"] == "u1"
    assert attrs[attr.PATTERN_TYPE] == "debate"
    assert attrs[attr.SERVICE_NAME] == "investment-analysis"


async def test_agents_run_while_a_pattern_span_is_open_nest_under_it_even_in_tasks(exporter, provider, emitter):
    bull, bear = agents(provider, "bull", "bear")
    span = emitter.pattern_span("debate")
    try:
        await asyncio.gather(bull.run([Msg("go")]), asyncio.create_task(bear.run([Msg("go")])))
    finally:
        span.end()
    spans = exporter.get_finished_spans()
    root = one(spans, "invoke_workflow debate")
    assert all(is_child(s, root) for s in spans if s is not root)
    assert len(spans) == 3


async def test_a_traced_pattern_run_while_a_manual_pattern_span_is_open_nests_under_it(exporter, provider, emitter):
    pattern = traced(Sequential, provider)(*agents(provider, "a"))
    span = emitter.pattern_span("session")
    await pattern.run("task")
    emitter.set_pattern_result(span)
    span.end()
    spans = exporter.get_finished_spans()
    session, inner = one(spans, "invoke_workflow session"), one(spans, "invoke_workflow sequential")
    assert is_child(inner, session)
    assert is_child(one(spans, "invoke_agent a"), inner)
    assert session.attributes[attr.COST_INPUT_TOKENS] == inner.attributes[attr.COST_INPUT_TOKENS]


async def test_an_ended_pattern_span_is_no_longer_used_as_parent(exporter, provider, emitter):
    (agent,) = agents(provider, "late")
    emitter.pattern_span("debate").end()
    await agent.run([Msg("go")])
    assert one(exporter.get_finished_spans(), "invoke_agent late").parent is None


async def test_manual_pattern_spans_nest_and_the_outer_one_is_parent_again_after_the_inner_ends(
    exporter, provider, emitter
):
    first, second = agents(provider, "first", "second")
    outer = emitter.pattern_span("outer")
    inner = emitter.pattern_span("inner")
    await first.run([])
    inner.end()
    await second.run([])
    outer.end()
    spans = exporter.get_finished_spans()
    outer_span, inner_span = one(spans, "invoke_workflow outer"), one(spans, "invoke_workflow inner")
    assert is_child(inner_span, outer_span)
    assert is_child(one(spans, "invoke_agent first"), inner_span)
    assert is_child(one(spans, "invoke_agent second"), outer_span)


async def test_a_pattern_span_opened_under_a_current_span_still_parents_the_agents(exporter, provider, emitter):
    tracer = provider.get_tracer("app")
    (agent,) = agents(provider, "bull")
    with tracer.start_as_current_span("http request"):
        span = emitter.pattern_span("debate")
        await agent.run([])
        with tracer.start_as_current_span("step"):  # opened later, inside the pattern
            await agent.run([])
        span.end()
    spans = exporter.get_finished_spans()
    pattern, step = one(spans, "invoke_workflow debate"), one(spans, "step")
    assert is_child(pattern, one(spans, "http request"))
    first, second = sorted(find_spans(spans, "invoke_agent bull"), key=lambda s: s.start_time)
    assert is_child(first, pattern)
    assert is_child(second, step)


def test_agent_span_has_agent_attributes_and_parents_llm_spans(exporter, emitter):
    agent_span = emitter.agent_span("judge", model="claude-sonnet-4-20250514", attributes={"round": 2})
    emitter.llm_span("claude-sonnet-4-20250514").end()
    agent_span.end()
    spans = exporter.get_finished_spans()
    agent = one(spans, "invoke_agent judge")
    assert is_child(one(spans, "chat claude-sonnet-4-20250514"), agent)
    assert agent.attributes[attr.AGENT_NAME] == "judge"
    assert agent.attributes[attr.AGENT_MODEL] == "claude-sonnet-4-20250514"
    assert agent.attributes[attr.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert agent.attributes["pyagent.agent.round"] == 2
    assert agent.attributes[attr.SERVICE_NAME] == "investment-analysis"


def test_llm_span_is_a_client_span_named_operation_model_and_priced_from_tokens(exporter, emitter):
    emitter.llm_span("gpt-4o-mini", input_tokens=1000, output_tokens=500).end()
    span = one(exporter.get_finished_spans())
    assert (span.name, span.kind) == ("chat gpt-4o-mini", SpanKind.CLIENT)
    attrs = span.attributes
    assert attrs[attr.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[attr.GEN_AI_USAGE_INPUT_TOKENS] == attrs[attr.COST_INPUT_TOKENS] == 1000
    assert attrs[attr.GEN_AI_USAGE_OUTPUT_TOKENS] == attrs[attr.COST_OUTPUT_TOKENS] == 500
    assert attrs[attr.COST_TOTAL_USD] == pytest.approx(DEFAULT_PRICES.cost("gpt-4o-mini", 1000, 500))


def test_llm_span_takes_explicit_provider_operation_and_cost(exporter, emitter):
    emitter.llm_span("my-model", provider="vllm", operation="text_completion", cost_usd=0.5).end()
    span = one(exporter.get_finished_spans())
    assert span.name == "text_completion my-model"
    assert span.attributes[attr.GEN_AI_PROVIDER_NAME] == "vllm"
    assert span.attributes[attr.COST_TOTAL_USD] == 0.5


def test_llm_span_for_an_unknown_model_is_unpriced(exporter, emitter):
    emitter.llm_span("my-model", input_tokens=1, output_tokens=1).end()
    attrs = one(exporter.get_finished_spans()).attributes
    assert attrs[attr.COST_UNPRICED] is True
    assert attr.COST_TOTAL_USD not in attrs


async def test_set_pattern_result_writes_outcome_duration_and_agent_totals(exporter, provider, emitter):
    team = agents(provider, "bull", "bear")
    span = emitter.pattern_span("debate")
    for agent in team:
        await agent.run([Msg("go")])
    emitter.set_pattern_result(span, output_len=12, rounds=2, early_stop=False, verdict="buy")
    span.end()
    spans = exporter.get_finished_spans()
    attrs = one(spans, "invoke_workflow debate").attributes
    agent_usd = sum(s.attributes[attr.COST_TOTAL_USD] for s in find_spans(spans, **{attr.AGENT_NAME: "bull"}))
    assert (attrs[attr.PATTERN_OUTPUT_LEN], attrs[attr.PATTERN_ROUNDS]) == (12, 2)
    assert attrs[attr.EARLY_STOP] is False
    assert attrs["pyagent.pattern.verdict"] == "buy"
    assert attrs[attr.EXEC_DURATION_MS] >= 0
    assert attrs[attr.COST_INPUT_TOKENS] == 2 * count_tokens("go")
    assert attrs[attr.COST_TOTAL_USD] == pytest.approx(2 * agent_usd)


@pytest.mark.parametrize(("cost_estimate", "expected"), [(0.25, 0.25), (0.0, None), (None, None)])
def test_set_pattern_result_cost_estimate_wins_unless_it_is_zero(exporter, emitter, cost_estimate, expected):
    span = emitter.pattern_span("debate")
    emitter.set_pattern_result(span, cost_estimate=cost_estimate)
    span.end()
    assert one(exporter.get_finished_spans()).attributes.get(attr.COST_TOTAL_USD) == expected


def test_record_error_sets_error_status_exception_event_and_error_type(exporter, emitter):
    span = emitter.pattern_span("debate")
    emitter.record_error(span, TimeoutError("judge timed out"))
    span.end()
    recorded = one(exporter.get_finished_spans())
    assert recorded.status.status_code is StatusCode.ERROR
    assert recorded.status.description == "TimeoutError: judge timed out"
    assert recorded.attributes[attr.ERROR_TYPE] == "TimeoutError"
    assert recorded.events[0].attributes[attr.EXCEPTION_MESSAGE] == "judge timed out"


async def test_pattern_block_makes_the_span_current_and_totals_its_agents(exporter, provider, emitter):
    (agent,) = agents(provider, "solo")
    with emitter.pattern("reflection", attributes={"rounds": 3}) as span:
        assert trace.get_current_span() is span
        await agent.run([Msg("go")])
    spans = exporter.get_finished_spans()
    pattern = one(spans, "invoke_workflow reflection")
    assert is_child(one(spans, "invoke_agent solo"), pattern)
    assert pattern.attributes[attr.PATTERN_ROUNDS] == 3
    assert pattern.attributes[attr.COST_INPUT_TOKENS] == count_tokens("go")
    assert pattern.attributes[attr.EXEC_DURATION_MS] >= 0


def test_pattern_and_agent_blocks_record_errors_and_reraise(exporter, emitter):
    with pytest.raises(LookupError), emitter.pattern("debate"), emitter.agent("judge", model="gpt-4o"):
        raise LookupError("no verdict")
    spans = exporter.get_finished_spans()
    judge, debate = one(spans, "invoke_agent judge"), one(spans, "invoke_workflow debate")
    assert is_child(judge, debate)
    assert judge.status.status_code is debate.status.status_code is StatusCode.ERROR
    assert judge.attributes[attr.AGENT_MODEL] == "gpt-4o"
