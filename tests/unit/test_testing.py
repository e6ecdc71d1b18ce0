"""pyagent_trace.testing: ids, the test provider and the span normaliser."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode
from pyagent_patterns.base import Agent, MockLLM
from pyagent_patterns.orchestration import FanOutFanIn

from pyagent_trace import attributes as attr
from pyagent_trace import testing
from pyagent_trace.spans import traced_agent, traced_pattern
from pyagent_trace.testing import (
    DURATION_PLACEHOLDER,
    STACKTRACE_PLACEHOLDER,
    IncrementalIdGenerator,
    InMemorySpanExporter,
    find_spans,
    make_test_tracer_provider,
    spans_as_dicts,
    spans_to_tree,
)


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter):
    return make_test_tracer_provider(exporter).get_tracer("test")


def test_incremental_id_generator_counts_span_and_trace_ids_from_one():
    ids = IncrementalIdGenerator()
    assert [ids.generate_span_id() for _ in range(3)] == [1, 2, 3]
    assert [ids.generate_trace_id() for _ in range(2)] == [1, 2]


def test_test_provider_exports_on_end_with_incremental_ids(exporter, tracer):
    with tracer.start_as_current_span("outer"), tracer.start_as_current_span("inner"):
        pass
    inner, outer = exporter.get_finished_spans()
    assert (outer.context.span_id, inner.context.span_id) == (1, 2)
    assert outer.context.trace_id == inner.context.trace_id == 1


def test_the_testing_module_imports_without_pytest_and_hides_no_test_classes():
    code = "import sys, pyagent_trace.testing; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert not [name for name in testing.__all__ if name.startswith("Test")]


def test_spans_to_tree_nests_children_and_keeps_name_kind_status_attributes(exporter, tracer):
    with (
        tracer.start_as_current_span("root", attributes={"b": 2, "a": 1}),
        tracer.start_as_current_span("child") as child,
    ):
        child.set_status(Status(StatusCode.ERROR, "bad"))
    (root,) = spans_to_tree(exporter.get_finished_spans())
    assert root == {
        "name": "root",
        "kind": "INTERNAL",
        "status": "UNSET",
        "attributes": {"a": 1, "b": 2},
        "children": [
            {
                "name": "child",
                "kind": "INTERNAL",
                "status": "ERROR",
                "status_description": "bad",
                "attributes": {},
                "children": [],
            }
        ],
    }
    assert list(root["attributes"]) == ["a", "b"]


def test_spans_to_tree_orders_siblings_by_start_time_then_name(exporter, tracer):
    with tracer.start_as_current_span("root"):
        for name, start in (("late", 30), ("b-tie", 20), ("a-tie", 20), ("early", 10)):
            tracer.start_span(name, start_time=start).end(end_time=40)
    (root,) = spans_to_tree(exporter.get_finished_spans())
    assert [child["name"] for child in root["children"]] == ["early", "a-tie", "b-tie", "late"]


def test_spans_whose_parent_is_missing_become_roots(exporter, tracer):
    with tracer.start_as_current_span("dropped"), tracer.start_as_current_span("orphan"):
        pass
    orphan = [span for span in exporter.get_finished_spans() if span.name == "orphan"]
    assert [node["name"] for node in spans_to_tree(orphan)] == ["orphan"]


def test_spans_to_tree_replaces_durations_and_stack_traces_with_placeholders(exporter, tracer):
    with tracer.start_as_current_span("agent", attributes={attr.EXEC_DURATION_MS: 12.3}) as span:
        try:
            raise ValueError("boom")
        except ValueError as exc:
            span.record_exception(exc)
    (node,) = spans_to_tree(exporter.get_finished_spans())
    assert node["attributes"][attr.EXEC_DURATION_MS] == DURATION_PLACEHOLDER
    (event,) = node["events"]
    assert event["name"] == "exception"
    assert event["attributes"][attr.EXCEPTION_STACKTRACE] == STACKTRACE_PLACEHOLDER
    assert event["attributes"][attr.EXCEPTION_MESSAGE] == "boom"
    assert "timestamp" not in event


def test_spans_to_tree_replaces_machine_specific_paths(exporter, tracer):
    path = os.path.join(os.getcwd(), "tests", "cassettes", "x.jsonl")
    with tracer.start_as_current_span("load", attributes={"file": path, "paths": (path, "rel")}):
        pass
    (node,) = spans_to_tree(exporter.get_finished_spans())
    expected = os.path.join("<cwd>", "tests", "cassettes", "x.jsonl")
    assert node["attributes"] == {"file": expected, "paths": [expected, "rel"]}


def test_spans_to_tree_drops_ids_and_timestamps(exporter, tracer):
    with tracer.start_as_current_span("root"):
        pass
    (node,) = spans_to_tree(exporter.get_finished_spans())
    assert set(node) == {"name", "kind", "status", "attributes", "children"}


async def _traced_fan_out(provider: TracerProvider) -> None:
    @traced_pattern(tracer_provider=provider)
    class TracedFanOut(FanOutFanIn):
        pass

    def agent(name: str) -> Agent:
        return traced_agent(Agent(name, MockLLM([f"{name} says hi"])), tracer_provider=provider)

    await TracedFanOut(agents=[agent("a"), agent("b"), agent("c")], aggregator=agent("sum")).run("go")


def test_two_runs_give_identical_trees_even_with_random_ids():
    trees = []
    for provider_kind in ("incremental", "random"):
        exporter = InMemorySpanExporter()
        if provider_kind == "incremental":
            provider = make_test_tracer_provider(exporter)
        else:
            provider = TracerProvider(shutdown_on_exit=False)
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        asyncio.run(_traced_fan_out(provider))
        trees.append(spans_to_tree(exporter.get_finished_spans()))
    assert trees[0] == trees[1]
    (root,) = trees[0]
    assert [child["name"] for child in root["children"]] == [
        "invoke_agent a",
        "invoke_agent b",
        "invoke_agent c",
        "invoke_agent sum",
    ]


def test_spans_as_dicts_is_flat_in_tree_order_with_parent_indexes(exporter, tracer):
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span("a"), tracer.start_as_current_span("a.1"):
            pass
        with tracer.start_as_current_span("b"):
            pass
    flat = spans_as_dicts(exporter.get_finished_spans())
    assert [(node["name"], node["parent"]) for node in flat] == [
        ("root", None),
        ("a", 0),
        ("a.1", 1),
        ("b", 0),
    ]
    assert "children" not in flat[0]


def test_find_spans_filters_by_name_and_attributes(exporter, tracer):
    for name, agent in (("invoke_agent bull", "bull"), ("invoke_agent bear", "bear"), ("chat", "bull")):
        tracer.start_span(name, attributes={attr.AGENT_NAME: agent}).end()
    spans = exporter.get_finished_spans()
    assert [s.name for s in find_spans(spans, **{attr.AGENT_NAME: "bull"})] == ["invoke_agent bull", "chat"]
    assert [s.name for s in find_spans(spans, "chat")] == ["chat"]
    assert find_spans(spans, "chat", **{attr.AGENT_NAME: "bear"}) == []
    assert find_spans(spans, **{"missing.key": None}) == []


def test_spans_to_tree_masks_what_other_libraries_spans_carry_per_run(exporter, tracer):
    """Server address, port, URL, response/conversation/tool-call ids and time to first chunk are placeholders."""
    volatile = {
        "server.address": "127.0.0.1",
        "server.port": 43117,
        "url.full": "http://127.0.0.1:43117/v1/messages",
        "gen_ai.response.id": "msg_01AbC",
        "gen_ai.response.time_to_first_chunk": 0.2183,
        "gen_ai.conversation.id": "conv-9",
        "gen_ai.tool.call.id": "call_7",
        "gen_ai.request.model": "claude-haiku-4-5",
    }
    tracer.start_span("chat claude-haiku-4-5", attributes=volatile).end()

    (node,) = spans_to_tree(exporter.get_finished_spans())

    assert node["attributes"] == {
        "gen_ai.conversation.id": "<conversation.id>",
        "gen_ai.request.model": "claude-haiku-4-5",
        "gen_ai.response.id": "<response.id>",
        "gen_ai.response.time_to_first_chunk": "<duration>",
        "gen_ai.tool.call.id": "<tool_call.id>",
        "server.address": "<server.address>",
        "server.port": "<server.port>",
        "url.full": "<url>",
    }


def test_own_only_keeps_pyagent_spans_under_their_nearest_kept_ancestor(exporter):
    """An SDK's span between our agent span and our client span disappears; nesting survives."""
    provider = testing.make_test_tracer_provider(exporter)
    ours, sdk = provider.get_tracer(attr.INSTRUMENTATION_NAME), provider.get_tracer("anthropic")
    with ours.start_as_current_span("invoke_agent writer"), sdk.start_as_current_span("anthropic.messages.create"):
        ours.start_span("chat claude-haiku-4-5").end()

    every = spans_to_tree(exporter.get_finished_spans())
    own = spans_to_tree(exporter.get_finished_spans(), own_only=True)

    assert [n["name"] for n in every[0]["children"]] == ["anthropic.messages.create"]
    assert [(n["name"], [c["name"] for c in n["children"]]) for n in own] == [
        ("invoke_agent writer", ["chat claude-haiku-4-5"])
    ]
