"""Recorder: entries, JSONL files (atomic, versioned, plain JSON), load errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pytest

from pyagent_trace._jsonl_io import TMP_DIR
from pyagent_trace.events import TraceEvent
from pyagent_trace.exceptions import BadRecordingError, ConfigError
from pyagent_trace.recorder import FORMAT_VERSION, RecordEntry, Recorder


def _docs_recorder() -> Recorder:
    recorder = Recorder()
    recorder.start(pattern_name="pipeline")
    recorder.record_llm_call(
        agent_name="extractor",
        messages=[{"role": "user", "content": "Tesla Q3 2025 earnings..."}],
        response="Revenue: $25.2B (+8% YoY), gross margin: 17.1%",
        model="claude-haiku-3-5-20241022",
        input_tokens=180,
        output_tokens=42,
        cost_usd=0.00006,
    )
    recorder.record_llm_call(
        agent_name="writer",
        messages=[{"role": "user", "content": "Revenue: $25.2B..."}],
        response="Tesla Q3: Revenue beat consensus by 2%...",
        model="gpt-4o-mini",
        input_tokens=60,
        output_tokens=85,
        cost_usd=0.00009,
    )
    recorder.end(final_output="Tesla Q3: Revenue beat consensus by 2%...")
    return recorder


def test_the_docs_example_records_four_events_and_sums_the_cost():
    recorder = _docs_recorder()
    assert [e.event_type for e in recorder.entries] == [
        "pattern_start",
        "llm_call",
        "llm_call",
        "pattern_end",
    ]
    assert len(recorder.llm_calls) == 2
    assert recorder.total_cost == pytest.approx(0.00015)
    assert recorder.total_tokens == 367
    assert recorder.entries[-1].response == "Tesla Q3: Revenue beat consensus by 2%..."


def test_save_then_load_round_trips_every_field(tmp_path):
    recorder = _docs_recorder()
    path = recorder.save(tmp_path / "traces" / "run.jsonl")
    loaded = Recorder.load(path)
    assert loaded == recorder.entries


def test_the_docs_replay_loop_runs_over_every_entry(tmp_path):
    path = _docs_recorder().save(tmp_path / "run.jsonl")
    lines = [
        f"[{e.event_type}] {e.agent_name}: {e.response[:80]}... "
        f"tokens: {e.input_tokens}+{e.output_tokens}, cost: ${e.cost_usd:.5f}"
        for e in Recorder.load(path)
    ]
    assert lines[1].startswith("[llm_call] extractor: Revenue: $25.2B")


def test_the_file_is_plain_jsonl_with_a_format_version_and_studio_fields(tmp_path):
    path = _docs_recorder().save(tmp_path / "run.jsonl")
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert rows[0] == {
        "event_type": "recording_header",
        "format": "pyagent-trace",
        "format_version": FORMAT_VERSION,
    }
    for row in rows[1:]:
        assert {"event_type", "agent_name", "timestamp", "duration_ms", "tokens"} <= row.keys()
    assert rows[2]["tokens"] == 222


def test_messages_accept_pyagent_message_objects_dicts_and_strings():
    from pyagent_patterns.base import Message

    recorder = Recorder()
    a = recorder.record_llm_call("a", [Message.system("be brief"), Message.user("hi")], "ok", cost_usd=0.1)
    b = recorder.record_llm_call("b", "just text", "ok", cost_usd=0.1)
    assert a.messages == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert b.messages == [{"role": "user", "content": "just text"}]


def test_missing_token_counts_are_estimated_and_flagged():
    entry = Recorder().record_llm_call("a", "12345678", "1234", model="x", cost_usd=0.0)
    assert (entry.input_tokens, entry.output_tokens, entry.tokens_estimated) == (2, 1, True)


def test_negative_tokens_are_rejected_naming_the_argument():
    with pytest.raises(ConfigError, match=r"output_tokens=-1"):
        Recorder().record_llm_call("a", "hi", "ok", input_tokens=1, output_tokens=-1)


def test_a_non_string_response_is_rejected():
    with pytest.raises(ConfigError, match=r"response=.* must be a str"):
        Recorder().record_llm_call("a", "hi", 42)  # type: ignore[arg-type]


def test_bus_events_are_kept_as_entries_with_durations_in_ms():
    recorder = Recorder()
    recorder.export_event(TraceEvent(3.0, "agent_end", "analyst", payload={"duration_seconds": 0.5}))
    (entry,) = recorder.entries
    assert (entry.event_type, entry.agent_name, entry.duration_ms) == ("agent_end", "analyst", 500.0)


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = _docs_recorder().save(tmp_path / "run.jsonl")
    before = path.read_bytes()

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        Recorder().save(path)
    assert path.read_bytes() == before, "the old recording survives a failed write"
    assert [p.name for p in tmp_path.iterdir() if p.name != TMP_DIR] == ["run.jsonl"]
    assert list((tmp_path / TMP_DIR).glob("*.tmp")) == []


def test_load_names_the_file_and_line_of_invalid_json(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event_type": "llm_call"}\n\n{"event_type": oops}\n')
    with pytest.raises(BadRecordingError, match=r"bad\.jsonl:3: not valid JSON") as info:
        Recorder.load(path)
    assert info.value.line == 3


def test_load_rejects_a_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event_type": "llm_call"}\n[1, 2]\n')
    with pytest.raises(BadRecordingError, match=r"bad\.jsonl:2: expected a JSON object"):
        Recorder.load(path)


def test_load_rejects_two_objects_on_one_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event_type": "a"},{"event_type": "b"}\n')
    with pytest.raises(BadRecordingError, match=r"bad\.jsonl:1"):
        Recorder.load(path)


def test_load_rejects_an_entry_without_event_type(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"agent_name": "a"}\n')
    with pytest.raises(BadRecordingError, match=r"bad\.jsonl:1: entry has no string 'event_type'"):
        Recorder.load(path)


def test_load_rejects_non_numeric_token_counts(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event_type": "llm_call", "input_tokens": "many"}\n')
    with pytest.raises(BadRecordingError, match=r"bad\.jsonl:1: 'input_tokens' must be a whole number"):
        Recorder.load(path)


def test_load_refuses_a_newer_format_version(tmp_path):
    path = tmp_path / "new.jsonl"
    path.write_text('{"event_type": "recording_header", "format_version": 99}\n')
    with pytest.raises(BadRecordingError, match=r"new\.jsonl:1: .*version 99 .*upgrade pyagent-trace"):
        Recorder.load(path)


def test_load_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        Recorder.load(tmp_path / "nope.jsonl")


def test_load_of_a_directory_says_so(tmp_path):
    with pytest.raises(BadRecordingError, match=r"is a directory"):
        Recorder.load(tmp_path)


def test_unknown_keys_from_other_tools_are_kept_in_metadata(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"event_type": "llm_call", "agent_name": "a", "span_id": "abc"}\n')
    (entry,) = Recorder.load(path)
    assert entry == RecordEntry("llm_call", agent_name="a", metadata={"span_id": "abc"})


def test_a_file_without_header_is_read_as_version_one(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"event_type": "llm_call", "response": "hi"}\n')
    assert Recorder.load(Path(path))[0].response == "hi"


def test_save_keeps_normal_file_permissions(tmp_path):
    path = _docs_recorder().save(tmp_path / "run.jsonl")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)
    _docs_recorder().save(path)
    assert path.stat().st_mode & 0o777 == 0o640, "a rewrite keeps the file's permissions"


def test_the_file_has_one_line_per_entry_even_when_a_value_looks_like_the_line_separator(tmp_path):
    from pyagent_trace._jsonl_io import _SEPARATOR, dump_lines

    rows = [{"a": 1}, {"b": [_SEPARATOR, "x"]}, {"c": "line\nbreak"}, {1: "non-string key"}]
    data = dump_lines(rows)
    assert data == b"".join(orjson.dumps(r, option=orjson.OPT_NON_STR_KEYS) + b"\n" for r in rows)
    assert dump_lines([]) == b""


def test_summing_tokens_and_cost_over_every_line_counts_each_call_once(tmp_path):
    """pyagent-studio adds up ``tokens`` over all lines: the pattern_end line keeps its totals in metadata."""
    recorder = Recorder()
    recorder.start(pattern_name="pipeline")
    recorder.record_llm_call("a", [{"role": "user", "content": "q"}], "r", model="gpt-4o-mini", input_tokens=200,
                             output_tokens=167)  # fmt: skip
    end = recorder.end(final_output="r")
    rows = [json.loads(line) for line in recorder.save(tmp_path / "run.jsonl").read_text().splitlines()]

    assert sum(row.get("tokens", 0) for row in rows) == 367
    assert sum(row.get("cost_usd", 0.0) for row in rows) == recorder.total_cost
    assert end.metadata == {"total_tokens": 367, "total_cost_usd": recorder.total_cost}


def test_user_prices_price_calls_recorded_without_a_cost():
    """Recorder(prices=...) honours the user's prices like CostTracker does; unknown stays unpriced."""
    recorder = Recorder(prices={"house-model": {"input": 2.0, "output": 4.0}})

    priced = recorder.record_llm_call("a", "q", "r", model="house-model", input_tokens=500_000, output_tokens=0)
    unknown = recorder.record_llm_call("a", "q", "r", model="nobody-knows", input_tokens=10, output_tokens=1)

    assert (priced.cost_usd, priced.priced) == (1.0, True)
    assert (unknown.cost_usd, unknown.priced) == (0.0, False)
