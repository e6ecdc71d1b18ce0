"""What the GenAI conventions' recommended attributes cost per replayed call's span.

``emit_genai_span`` (request parameters, response id, finish reasons, reasoning tokens,
server address/port, time to first chunk: all read from the cassette entry, no parsing)
against the span as it was before them: the same tracer, the old attribute set (operation,
provider, models, agent, usage, cache, cost, status). Both run alternately in one process,
N calls each, on real recorded responses (shared/real-traffic), streamed and not.

Run: .venv/bin/python bench/bench_genai_span.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from opentelemetry.trace import SpanKind

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import real_traffic
from _timing import paired_medians

from pyagent_trace import attributes as attr
from pyagent_trace._recording import RecordEntry
from pyagent_trace._span_scope import active_scope, get_tracer, parent_context
from pyagent_trace.http import emit_genai_span
from pyagent_trace.http._entry import build_entry
from pyagent_trace.http.spans import instrumented_call_span, is_llm_entry
from pyagent_trace.pricing import DEFAULT_PRICES
from pyagent_trace.testing import InMemorySpanExporter, make_test_tracer_provider

N = 1_000
FILES = ("openai_chat_nonstream_02.json", "anthropic_messages_stream_01.json", "openai_responses_stream_01.json")


def old_attributes(entry: RecordEntry) -> dict[str, object]:
    """The attribute set of the span before the recommended attributes were added."""
    meta = entry.metadata
    attrs: dict[str, object] = {
        attr.GEN_AI_OPERATION_NAME: "chat",
        attr.GEN_AI_PROVIDER_NAME: attr.provider_name(str(meta.get("provider", ""))),
        attr.GEN_AI_REQUEST_MODEL: entry.model,
    }
    if meta.get("response_model"):
        attrs[attr.GEN_AI_RESPONSE_MODEL] = str(meta["response_model"])
    attrs[attr.GEN_AI_USAGE_INPUT_TOKENS] = attrs[attr.COST_INPUT_TOKENS] = entry.input_tokens
    attrs[attr.GEN_AI_USAGE_OUTPUT_TOKENS] = attrs[attr.COST_OUTPUT_TOKENS] = entry.output_tokens
    attrs[attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = int(meta.get("cache_read_tokens") or 0)
    attrs[attr.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = int(meta.get("cache_write_tokens") or 0)
    attrs[attr.COST_TOTAL_USD] = entry.cost_usd
    attrs[attr.HTTP_RESPONSE_STATUS_CODE] = 200
    return attrs


def main() -> None:
    exporter = InMemorySpanExporter()
    provider = make_test_tracer_provider(exporter)
    print(f"{'response':36} {'now µs':>7} {'before µs':>9} {'ratio':>5}  (per span; {N} spans a run, 15 paired runs)")
    for name in FILES:
        interaction = real_traffic.as_interaction(real_traffic.load(name))
        entry = build_entry(interaction, timestamp=0.0, duration_ms=10.0, prices=DEFAULT_PRICES, first_chunk_ms=5.0)

        def now(entry: RecordEntry = entry) -> None:
            for _ in range(N):
                emit_genai_span(entry, provider)
            exporter.clear()

        def before(entry: RecordEntry = entry) -> None:  # emit_genai_span's steps, old attributes
            for _ in range(N):
                if not is_llm_entry(entry) or instrumented_call_span() is not None:
                    continue
                attrs = old_attributes(entry)
                end = time.time_ns()
                name = attr.llm_span_name("chat", entry.model)
                span = get_tracer(provider).start_span(
                    name, parent_context(active_scope()), SpanKind.CLIENT, attrs, start_time=end - 10_000_000
                )
                span.end(end_time=end)
            exporter.clear()

        ours, floor, ratio = paired_medians(now, before, 15)
        print(f"{name:36} {ours / N * 1e6:7.1f} {floor / N * 1e6:9.1f} {ratio:5.2f}")


if __name__ == "__main__":
    main()
