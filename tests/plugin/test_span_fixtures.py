"""span_exporter / spans / span_tree: one provider installed once, each test sees only its
own spans, and the tree is normalised so that `assert span_tree == snapshot` is stable."""

from __future__ import annotations

import pytest
from plugin_testing import run

AGENT_TREE = """
    from opentelemetry import trace
    from pyagent_patterns import Agent, Message
    from pyagent_trace import traced_agent
    from fake_llm import FakeLLM

    async def test_pipeline(cassette, span_tree, snapshot):
        tracer = trace.get_tracer("pipeline")
        analyst = traced_agent(Agent("analyst", cassette.llm(FakeLLM(), agent_name="analyst")))
        writer = traced_agent(Agent("writer", cassette.llm(FakeLLM(), agent_name="writer")))
        with tracer.start_as_current_span("pipeline") as span:
            span.set_attribute("pipeline.step_count", 2)
            notes = await analyst.run([Message.user("Summarise Q3")])
            await writer.run([Message.user(notes.content)])
        assert span_tree == snapshot
"""

SNAPSHOT = "__snapshots__/test_pipeline.ambr"


def test_spans_fixture_sees_the_tests_spans_with_finders(project):
    """spans holds the finished spans of the test, read live, with .names, .find() and .one()."""
    project.makepyfile(
        test_inner_spans="""
        from opentelemetry import trace

        def test_finders(spans):
            tracer = trace.get_tracer("t")
            assert len(spans) == 0
            with tracer.start_as_current_span("plan") as span:
                span.set_attribute("pyagent.agent.name", "planner")
                with tracer.start_as_current_span("call"):
                    pass
            assert spans.names == ["call", "plan"]
            assert spans.one("plan").attributes["pyagent.agent.name"] == "planner"
            assert [s.name for s in spans.find(**{"pyagent.agent.name": "planner"})] == ["plan"]
            assert spans.find("missing") == []
        """
    )

    run(project).assert_outcomes(passed=1)


def test_each_test_sees_only_its_own_spans(project):
    """Spans never leak between tests, including spans made by a test that asked for no span fixture."""
    project.makepyfile(
        test_inner_spans="""
        from opentelemetry import trace

        def make(name):
            with trace.get_tracer("t").start_as_current_span(name):
                pass

        def test_first(spans):
            make("first")
            assert spans.names == ["first"]

        def test_without_fixture():
            make("unobserved")

        async def test_async(spans):
            make("async")
            assert spans.names == ["async"]

        def test_last(span_exporter):
            make("last")
            assert [s.name for s in span_exporter.get_finished_spans()] == ["last"]
        """
    )

    run(project).assert_outcomes(passed=4)


def test_one_lists_the_spans_when_it_does_not_find_exactly_one(project):
    """spans.one() fails with what it looked for and the names it has, pointing at the test's line."""
    project.makepyfile(
        test_inner_spans="""
        from opentelemetry import trace

        def test_one(spans):
            with trace.get_tracer("t").start_as_current_span("plan"):
                pass
            spans.one("book")
        """
    )

    result = run(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E * expected exactly one span with name='book', found 0; spans: [[]'plan']"])
    result.stdout.no_fnmatch_line("*pytest_pyagent_trace/_spans.py*")


def test_span_tree_is_nested_normalised_and_read_when_compared(project):
    """span_tree nests children under parents, fixes volatile values, and reflects spans ended after it was made."""
    project.makepyfile(
        test_tree="""
        from opentelemetry import trace

        def test_tree(span_tree):
            tracer = trace.get_tracer("t")
            with tracer.start_as_current_span("root") as root:
                root.set_attribute("pyagent.exec.duration_ms", 12.5)
                with tracer.start_as_current_span("b-child"):
                    pass
                with tracer.start_as_current_span("a-child"):
                    pass
            assert span_tree == [
                {
                    "name": "root", "kind": "INTERNAL", "status": "UNSET",
                    "attributes": {"pyagent.exec.duration_ms": "<duration_ms>"},
                    "children": [
                        {"name": "b-child", "kind": "INTERNAL", "status": "UNSET", "attributes": {}, "children": []},
                        {"name": "a-child", "kind": "INTERNAL", "status": "UNSET", "attributes": {}, "children": []},
                    ],
                }
            ]
            assert repr(span_tree).splitlines() == [
                "root [INTERNAL, UNSET]", "  b-child [INTERNAL, UNSET]", "  a-child [INTERNAL, UNSET]"
            ]
        """
    )

    run(project).assert_outcomes(passed=1)


def test_spans_fixture_joins_a_provider_the_project_installed(project):
    """When the project's conftest already set an SDK TracerProvider, the fixtures route from it."""
    project.makeconftest(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        trace.set_tracer_provider(TracerProvider())
        """
    )
    project.makepyfile(
        test_inner_spans="""
        from opentelemetry import trace

        def test_joined(spans):
            with trace.get_tracer("t").start_as_current_span("mine"):
                pass
            assert spans.names == ["mine"]
        """
    )

    run(project).assert_outcomes(passed=1)


@pytest.fixture
def snapshotted(project: pytest.Pytester) -> pytest.Pytester:
    """test_pipeline recorded, and its span tree snapshot written by --snapshot-update."""
    project.makepyfile(test_pipeline=AGENT_TREE)
    run(project, "--record-mode=once", "--snapshot-update").assert_outcomes(passed=1)
    return project


def test_snapshot_update_writes_a_readable_normalised_tree(snapshotted):
    """--snapshot-update stores the nested tree with placeholders instead of durations."""
    text = (snapshotted.path / SNAPSHOT).read_text()

    assert "'name': 'pipeline'" in text
    assert "'name': 'invoke_agent analyst'" in text
    assert "'pyagent.exec.duration_ms': '<duration_ms>'" in text
    assert text.index("invoke_agent analyst") < text.index("invoke_agent writer")


def test_replay_matches_the_snapshot_and_leaves_it_unchanged(snapshotted, monkeypatch):
    """A plain replay run passes against the stored snapshot and does not rewrite it."""
    before = (snapshotted.path / SNAPSHOT).read_bytes()
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")

    run(snapshotted).assert_outcomes(passed=1)

    assert (snapshotted.path / SNAPSHOT).read_bytes() == before


def test_snapshot_bytes_are_identical_across_fresh_processes(snapshotted, monkeypatch):
    """Writing the snapshot again from scratch in a new process gives the same bytes."""
    first = (snapshotted.path / SNAPSHOT).read_bytes()
    (snapshotted.path / SNAPSHOT).unlink()
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")

    run(snapshotted, "--snapshot-update").assert_outcomes(passed=1)

    assert (snapshotted.path / SNAPSHOT).read_bytes() == first


def test_a_changed_tree_fails_against_the_snapshot_with_a_diff(snapshotted, monkeypatch):
    """When the code's spans change, the comparison fails and syrupy shows what differs."""
    snapshotted.makepyfile(test_pipeline=AGENT_TREE.replace('"pipeline.step_count", 2', '"pipeline.step_count", 3'))
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")

    result = run(snapshotted)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*'pipeline.step_count': 2*", "*'pipeline.step_count': 3*"])


def test_own_tree_and_syrupy_matchers_make_snapshots_survive_other_libraries(project, monkeypatch):
    """span_tree.own drops an SDK's spans; syrupy's props/path_type matchers work on span_tree."""
    project.makepyfile(
        test_own="""
        import os
        from opentelemetry import trace
        from pyagent_patterns import Agent, Message
        from pyagent_trace import traced_agent
        from syrupy.matchers import path_type
        from fake_llm import FakeLLM

        async def test_own(cassette, span_tree, snapshot):
            agent = traced_agent(Agent("writer", cassette.llm(FakeLLM(), agent_name="writer")))
            with trace.get_tracer("some.sdk").start_as_current_span("sdk.call") as span:
                span.set_attribute("sdk.run", os.environ.get("RUN", "1"))
                await agent.run([Message.user("hi")])
            assert [node["name"] for node in span_tree.own.value] == ["invoke_agent writer"]
            assert span_tree.own == snapshot
            assert span_tree == snapshot(matcher=path_type({r".*sdk\\.run": (str,)}, regex=True))
        """
    )
    run(project, "--record-mode=once", "--snapshot-update").assert_outcomes(passed=1)
    monkeypatch.setenv("RUN", "2")  # the SDK's span changes; the matcher and .own do not care

    run(project).assert_outcomes(passed=1)


def test_fixture_types_are_public_for_annotations(project):
    """Tests can annotate the fixtures with the types pytest_pyagent_trace exports; they are what the fixtures give."""
    project.makepyfile(
        test_typed="""
        from pytest_pyagent_trace import CapturedSpans, Cassette, CostTracker, SpanTree, TraceEventBus

        def test_typed(cassette: Cassette, cost_tracker: CostTracker, trace_bus: TraceEventBus,
                       spans: CapturedSpans, span_tree: SpanTree):
            assert isinstance(cassette, Cassette)
            assert isinstance(cost_tracker, CostTracker)
            assert isinstance(trace_bus, TraceEventBus)
            assert isinstance(spans, CapturedSpans)
            assert isinstance(span_tree, SpanTree)
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)
