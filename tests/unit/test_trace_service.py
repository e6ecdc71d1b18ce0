"""TraceService: recordings, cassettes and JsonlExporter output load into one span list."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from pyagent_trace._recording import RecordEntry, save_entries
from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.exceptions import BadRecordingError
from pyagent_trace.exporters.jsonl import JsonlExporter
from pyagent_trace.recorder import Recorder
from pyagent_trace.trace_service import TraceService, TraceSpan, call_spans, load_spans

GEMINI, CLAUDE = "gemini-2.5-flash", "claude-sonnet-4-20250514"


def debate_entries() -> list[RecordEntry]:
    """The docs' "Trace Output Example": two rounds of bull/bear, then the judge."""
    rows = [
        ("bull", GEMINI, 450, 380, 0.00094, 2400.0),
        ("bear", GEMINI, 450, 410, 0.00098, 2700.0),
        ("bull", GEMINI, 410, 360, 0.00086, 2100.0),
        ("bear", GEMINI, 410, 380, 0.00084, 1900.0),
        ("judge", CLAUDE, 1200, 480, 0.00840, 700.0),
    ]
    entries = [RecordEntry("pattern_start", pattern_type="debate", timestamp=1000.0)]
    clock = 1000.0
    for agent, model, inp, out, cost, ms in rows:
        clock += ms / 1000
        entries.append(
            RecordEntry(
                "llm_call", agent_name=agent, pattern_type="debate", model=model, timestamp=clock,
                duration_ms=ms, input_tokens=inp, output_tokens=out, tokens=inp + out, cost_usd=cost,
                messages=[{"role": "user", "content": f"{agent} prompt"}], response=f"{agent} says",
            )
        )  # fmt: skip
    entries.append(
        RecordEntry("pattern_end", pattern_type="debate", timestamp=clock, duration_ms=9800.0, cost_usd=0.01202)
    )
    return entries


@pytest.fixture
def debate_file(tmp_path):
    return save_entries(tmp_path / "debate.jsonl", debate_entries())


def test_the_docs_snippet_loads_and_queries_a_recording(tmp_path):
    recorder = Recorder()
    recorder.start(pattern_name="pipeline")
    recorder.record_llm_call("extractor", "Tesla Q3", "Revenue: $25.2B", "gpt-4o-mini", 180, 42, 0.00006)
    recorder.record_llm_call("writer", "Revenue", "Tesla Q3: beat", "gpt-4o-mini", 60, 85, 0.00009, duration_ms=2500)
    recorder.end(final_output="Tesla Q3: beat")
    path = recorder.save(tmp_path / "traces" / "pipeline_run_001.jsonl")

    svc = TraceService()
    spans = svc.load(path)
    assert [s.event_type for s in spans] == ["pattern_start", "llm_call", "llm_call", "pattern_end"]
    assert [(s.agent_name, s.tokens) for s in spans[1:3]] == [("extractor", 222), ("writer", 145)]
    assert [s.agent_name for s in svc.query(event_type="llm_call")] == ["extractor", "writer"]
    assert [s.agent_name for s in svc.query(min_duration_ms=2000)] == ["writer"]


def test_a_recording_entry_becomes_a_span_with_every_field(debate_file):
    span = load_spans(debate_file)[1]
    assert span == TraceSpan(
        event_type="llm_call", agent_name="bull", pattern_type="debate", model=GEMINI,
        timestamp=1002.4, duration_ms=2400.0, tokens=830, input_tokens=450, output_tokens=380,
        cost_usd=0.00094, messages=[{"role": "user", "content": "bull prompt"}], response="bull says",
        metadata={}, priced=True, source=str(debate_file),
    )  # fmt: skip


def test_a_span_is_its_entry_plus_source_with_whole_number_times_and_cost_as_floats(tmp_path):
    entry_fields = [f.name for f in dataclasses.fields(RecordEntry)]
    assert [f.name for f in dataclasses.fields(TraceSpan)] == [*entry_fields, "source"]
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"event_type": "llm_call", "timestamp": 1000, "duration_ms": 5, "cost_usd": 0}\n')
    span = load_spans(path)[0]
    assert isinstance(span, RecordEntry)
    assert [(type(v), v) for v in (span.timestamp, span.duration_ms, span.cost_usd)] == [
        (float, 1000.0), (float, 5.0), (float, 0.0)
    ]  # fmt: skip


def test_tokens_default_to_input_plus_output_when_the_line_has_no_total(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"event_type": "llm_call", "agent_name": "a", "input_tokens": 3, "output_tokens": 4}\n')
    assert load_spans(path)[0].tokens == 7


def test_jsonl_exporter_output_loads_with_payload_fields_lifted(tmp_path):
    path = tmp_path / "events.jsonl"
    bus = TraceEventBus(raise_errors=True)
    with JsonlExporter(path, raise_errors=True) as exporter:
        bus.subscribe(exporter.export_event)
        bus.emit(TraceEvent(10.0, "agent_start", "analyst"))
        bus.emit(TraceEvent(11.5, "agent_end", "analyst", payload={"duration_seconds": 1.5, "output_tokens": 12}))
        bus.emit(
            TraceEvent(
                11.5, "cost_record", "analyst", "debate",
                {"model": GEMINI, "input_tokens": 100, "output_tokens": 12, "tokens": 112, "cost_usd": 0.0001,
                 "priced": True, "cache_read_tokens": 0},
            )
        )  # fmt: skip
        bus.emit(TraceEvent(12.0, "llm_call", "writer", payload={"model": "gpt-4o", "duration_ms": 800}))
    spans = load_spans(path)
    assert [s.event_type for s in spans] == ["agent_start", "agent_end", "cost_record", "llm_call"]
    end, cost, call = spans[1], spans[2], spans[3]
    assert (end.duration_ms, end.output_tokens, end.tokens) == (1500.0, 12, 12)
    assert (cost.model, cost.tokens, cost.cost_usd, cost.pattern_type) == (GEMINI, 112, 0.0001, "debate")
    assert cost.metadata == {"cache_read_tokens": 0}
    assert (call.model, call.duration_ms) == ("gpt-4o", 800.0)


def test_exporter_payload_values_of_the_wrong_type_stay_in_metadata(tmp_path):
    path = tmp_path / "events.jsonl"
    row = {"timestamp": 1.0, "event_type": "x", "agent_name": "", "pattern_type": "", "payload": {"tokens": "many"}}
    path.write_bytes(orjson.dumps(row) + b"\n")
    span = load_spans(path)[0]
    assert span.tokens == 0
    assert span.metadata == {"tokens": "many"}


def test_http_cassette_entries_take_their_messages_from_the_request_body(tmp_path):
    http = {
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        },
        "response": {"status": 200, "body": {"choices": []}},
    }
    entry = RecordEntry(
        "http_interaction", agent_name="writer", model="gpt-4o-mini", input_tokens=5, output_tokens=2,
        cost_usd=0.00001, response="hello", metadata={"provider": "openai", "operation": "chat", "http": http},
    )  # fmt: skip
    path = save_entries(tmp_path / "http.jsonl", [entry])
    (span,) = load_spans(path)
    assert span.messages == [{"role": "user", "content": "hi"}]
    assert (span.tokens, span.response, span.metadata["provider"]) == (7, "hello", "openai")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]},
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        ),
        (
            {"contents": [{"role": "user", "parts": [{"text": "hi"}, {"text": "there"}]}]},
            [{"role": "user", "content": "hi\nthere"}],
        ),
        ("not json", []),
        ({"input": "embedding text"}, []),
    ],
)
def test_request_body_shapes_of_the_three_providers(tmp_path, body, expected):
    http = {"request": {"method": "POST", "url": "https://x.test/", "body": body}, "response": {"status": 200}}
    entry = RecordEntry("http_interaction", metadata={"http": http})
    (span,) = load_spans(save_entries(tmp_path / "h.jsonl", [entry]))
    assert span.messages == expected


def test_query_filters_combine_over_everything_loaded(tmp_path, debate_file):
    other = save_entries(
        tmp_path / "other.jsonl", [RecordEntry("llm_call", agent_name="judge", model="gpt-4o", duration_ms=5000)]
    )
    svc = TraceService()
    svc.load(debate_file)
    svc.load(other)
    assert len(svc.spans) == 8
    judges = svc.query(agent_name="judge")
    assert [s.model for s in judges] == [CLAUDE, "gpt-4o"]
    assert [s.agent_name for s in svc.query(model=GEMINI, min_duration_ms=2200)] == ["bull", "bear"]
    assert svc.query(event_type="llm_call", agent_name="judge", min_duration_ms=1000)[0].source == str(other)
    assert svc.query(event_type="nothing") == []
    assert len(svc.query()) == 8
    svc.clear()
    assert svc.spans == ()


def test_summary_totals_and_groups_by_agent_model_and_pattern(debate_file):
    svc = TraceService()
    svc.load(debate_file)
    summary = svc.summary()
    assert summary.total.calls == 5
    assert summary.total.cost_usd == pytest.approx(0.01202)
    assert (summary.total.input_tokens, summary.total.output_tokens, summary.total.tokens) == (2920, 2010, 4930)
    assert summary.total.duration_ms == 9800.0
    assert {k: round(v.cost_usd, 8) for k, v in summary.by_agent.items()} == {
        "bull": 0.0018, "bear": 0.00182, "judge": 0.0084,
    }  # fmt: skip
    assert {k: v.tokens for k, v in summary.by_agent.items()} == {"bull": 1600, "bear": 1650, "judge": 1680}
    assert {k: v.duration_ms for k, v in summary.by_agent.items()} == {"bull": 4500, "bear": 4600, "judge": 700}
    assert summary.by_agent["bull"].mean_ms == 2250.0
    assert {k: round(v.cost_usd, 8) for k, v in summary.by_model.items()} == {GEMINI: 0.00362, CLAUDE: 0.0084}
    assert list(summary.by_pattern) == ["debate"]
    assert summary.by_pattern["debate"].calls == 5


def test_summary_counts_unpriced_calls_and_to_dict_is_plain_json(tmp_path):
    path = save_entries(
        tmp_path / "u.jsonl", [RecordEntry("llm_call", agent_name="a", model="mystery", tokens=3, priced=False)]
    )
    svc = TraceService()
    svc.load(path)
    summary = svc.summary()
    assert summary.total.unpriced_calls == 1
    data = orjson.loads(orjson.dumps(summary.to_dict()))
    assert data["total"]["unpriced_calls"] == 1
    assert data["by_model"]["mystery"]["calls"] == 1
    assert set(data) == {"spans", "total", "by_pattern", "by_agent", "by_model"}


def test_call_spans_prefer_llm_calls_then_cost_records_then_agent_ends():
    def span(event_type):
        return TraceSpan(event_type=event_type, agent_name="a")

    mixed = [span("agent_start"), span("agent_end"), span("cost_record"), span("llm_call")]
    assert [s.event_type for s in call_spans(mixed)] == ["llm_call"]
    assert [s.event_type for s in call_spans(mixed[:3])] == ["cost_record"]
    assert [s.event_type for s in call_spans(mixed[:2])] == ["agent_end"]
    assert call_spans(mixed[:1]) == []


def test_summary_does_not_count_a_call_twice_when_a_file_has_both_kinds(tmp_path):
    rows = [
        {"timestamp": 1.0, "event_type": kind, "agent_name": "a", "pattern_type": "", "payload": {"cost_usd": 1.0}}
        for kind in ("llm_call", "cost_record")
    ]
    path = tmp_path / "both.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    svc = TraceService()
    svc.load(path)
    assert svc.summary().total.cost_usd == 1.0


def test_loading_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"event_type": "llm_call"}\n{"event_type": "llm_call", "tokens": "x"}\n')
    with pytest.raises(BadRecordingError, match=r"bad\.jsonl:2: 'tokens' must be a whole number"):
        load_spans(bad)
    with pytest.raises(FileNotFoundError, match=r"missing\.jsonl.*does not exist"):
        TraceService().load(tmp_path / "missing.jsonl")


def test_a_header_only_recording_loads_as_no_spans(tmp_path):
    assert load_spans(save_entries(tmp_path / "empty.jsonl", [])) == []
