"""Agent names from the frameworks' own hooks: the walk from the current span or run up to its agent."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from pyagent_trace import _framework_agents as fa


class _Processor:  # the shape of agents.TracingProcessor
    pass


def _span(span_id, parent_id, kind, name=""):
    return SimpleNamespace(span_id=span_id, parent_id=parent_id, span_data=SimpleNamespace(type=kind, name=name))


def test_openai_agents_a_model_call_is_costed_to_the_agent_span_above_it():
    processors, current = [], [None]
    module = SimpleNamespace(TracingProcessor=_Processor, add_trace_processor=processors.append,
                             get_current_span=lambda: current[0])  # fmt: skip
    agent_name = fa._openai_agents(module)
    (processor,) = processors
    triage, call = _span("a1", None, "agent", "triage"), _span("g1", "a1", "response")
    processor.on_span_start(triage)
    processor.on_span_start(call)
    current[0] = call
    assert agent_name() == "triage"
    processor.on_span_end(call)
    processor.on_span_end(triage)
    assert agent_name() == ""
    current[0] = None
    assert agent_name() == ""


def test_another_package_named_agents_is_left_alone():
    assert fa._openai_agents(SimpleNamespace()) is None


def test_langchain_the_nearest_named_run_is_the_agent_and_default_names_are_not():
    agent_name = fa._langchain(None)
    assert agent_name is not None
    from langchain_core.tracers.context import _configure_hooks

    handler = _configure_hooks[-1][0].get()
    chain, model = uuid.uuid4(), uuid.uuid4()
    handler.on_chain_start(None, {}, run_id=chain, name="planner")
    handler.on_chat_model_start({}, [], run_id=model, parent_run_id=chain, name=None)
    assert agent_name() == "planner"
    handler.on_llm_end(None, run_id=model)
    handler.on_chain_end({}, run_id=chain)
    assert agent_name() == ""
    inner = uuid.uuid4()
    handler.on_chain_start(None, {}, run_id=chain, name="RunnableSequence")
    handler.on_chat_model_start({}, [], run_id=inner, parent_run_id=chain, name="critic")
    assert agent_name() == "critic"
    handler.on_chat_model_start({}, [], run_id=model, parent_run_id=chain, name=None)
    assert agent_name() == ""


def test_default_langchain_run_names_are_not_agents():
    assert [fa._named(n) for n in ("RunnableSequence", "LangGraph", "ChatPromptTemplate", None, "planner")] == [
        "",
        "",
        "",
        "",
        "planner",
    ]
