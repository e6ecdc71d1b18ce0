"""Span fixtures beside the tracer provider an application or logfire installs: they join
it, or fail the test saying why, never hand back a silently empty list."""

from __future__ import annotations

from field_project import FieldProject
from readme_blocks import readme_block


def test_span_fixtures_join_logfire(field: FieldProject):
    """With the README's logfire.configure() conftest.py, spans and span_tree see the test's spans, logfire's too."""
    field.configure()
    field.write("conftest.py", readme_block("## Span fixtures with your own tracer provider, or logfire", 1))
    field.write(
        "test_app.py",
        """
        import logfire
        from opentelemetry import trace

        def test_spans(spans):
            with trace.get_tracer("app").start_as_current_span("work"):
                with logfire.span("step"):
                    pass
            assert spans.names == ["step", "work"]

        def test_tree(span_tree):
            with trace.get_tracer("app").start_as_current_span("again"):
                pass
            assert [node["name"] for node in span_tree.value] == ["again"]
        """,
    )

    result = field.pytest()

    assert result.outcomes() == {"passed": 2}, result


def test_span_fixtures_join_the_apps_own_sdk_provider(field: FieldProject):
    """An SDK TracerProvider the app installs in conftest.py keeps its processors and feeds the fixtures."""
    field.configure()
    field.write(
        "conftest.py",
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        APP_EXPORTER = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(APP_EXPORTER))
        provider.APP_EXPORTER = APP_EXPORTER  # for the test to read
        trace.set_tracer_provider(provider)
        """,
    )
    field.write(
        "test_app.py",
        """
        from opentelemetry import trace

        def test_spans(spans):
            with trace.get_tracer("app").start_as_current_span("work"):
                pass
            assert spans.names == ["work"]
            assert [s.name for s in trace.get_tracer_provider().APP_EXPORTER.get_finished_spans()] == ["work"]
        """,
    )

    result = field.pytest()

    assert result.outcomes() == {"passed": 1}, result


def test_a_provider_replaced_inside_a_test_fails_saying_so(field: FieldProject):
    """Resetting and replacing the global provider mid-test fails the span read with the reason, not []."""
    field.configure()
    field.write(
        "test_app.py",
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.util._once import Once

        def test_replaced(spans):
            trace._TRACER_PROVIDER_SET_ONCE = Once()
            trace._TRACER_PROVIDER = None
            trace.set_tracer_provider(TracerProvider())
            with trace.get_tracer("app").start_as_current_span("work"):
                pass
            assert spans.names == ["work"]
        """,
    )

    result = field.pytest()

    assert result.outcomes() == {"failed": 1}, result
    assert "pyagent-trace lost its span capture: the global TracerProvider was replaced" in result.stdout
