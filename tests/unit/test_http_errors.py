"""A provider's error response (no usage block) costs nothing: 0 tokens, $0, not an
estimate, and its span says which error. Checked on real 4xx responses of the APIs."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from real_traffic import as_interaction, index, load

from pyagent_trace.http import emit_genai_span
from pyagent_trace.http._entry import build_entry
from pyagent_trace.pricing import DEFAULT_PRICES

ERRORS = [row["file"] for row in index() if row["error"] and row["provider"] in ("openai", "anthropic", "google")]


@pytest.mark.parametrize("name", ERRORS)
def test_an_error_response_without_usage_costs_nothing_and_is_not_estimated(name):
    entry = build_entry(as_interaction(load(name)), timestamp=0.0, duration_ms=1.0, prices=DEFAULT_PRICES)

    assert entry.metadata["provider"], "the call is still understood as a provider call"
    assert (entry.input_tokens, entry.output_tokens, entry.cost_usd) == (0, 0, 0.0)
    assert entry.tokens_estimated is False
    assert entry.priced is True


@pytest.mark.parametrize("name", ERRORS)
def test_the_span_of_an_error_response_carries_its_status_as_error_type(name):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    entry = build_entry(as_interaction(load(name)), timestamp=0.0, duration_ms=1.0, prices=DEFAULT_PRICES)

    emit_genai_span(entry, provider)

    (span,) = exporter.get_finished_spans()
    status = load(name)["response"]["status"]
    assert span.attributes["error.type"] == str(status)
    assert span.attributes["gen_ai.usage.input_tokens"] == 0
    assert "pyagent.cost.estimated" not in span.attributes


def test_the_real_traffic_has_errors_of_each_provider():
    assert {load(name)["provider"] for name in ERRORS} == {"openai", "anthropic", "google"}
