"""ConsoleExporter and JsonlExporter: formats, files, threads, failures."""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import orjson
import pytest

from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.exporters import ConsoleExporter, JsonlExporter, TraceExporter
from pyagent_trace.exporters.console import format_event


def _event(event_type: str, **payload: object) -> TraceEvent:
    return TraceEvent(timestamp=1.5, event_type=event_type, agent_name="analyst", payload=dict(payload))


def test_console_lines_follow_the_documented_format():
    assert format_event(_event("agent_start")) == "[agent_start] agent=analyst"
    assert (
        format_event(_event("cost_record", input_tokens=30, output_tokens=12, cost_usd=0.00006))
        == "[cost_record] agent=analyst tokens=42 cost=0.00006"
    )
    assert format_event(_event("agent_end", duration_seconds=0.25)) == "[agent_end] agent=analyst duration_ms=250"


def test_console_says_unpriced_instead_of_a_zero_cost():
    line = format_event(_event("cost_record", tokens=5, cost_usd=0.0, priced=False))
    assert line == "[cost_record] agent=analyst tokens=5 cost=unpriced"


def test_console_names_the_pattern_of_pattern_events():
    event = TraceEvent(timestamp=1.0, event_type="pattern_start", pattern_type="debate")
    assert format_event(event) == "[pattern_start] pattern=debate"


def test_console_writes_to_stdout_at_call_time(capsys):
    exporter = ConsoleExporter()
    exporter.export_event(_event("agent_start"))
    assert capsys.readouterr().out == "[agent_start] agent=analyst\n"


def test_console_swallows_a_broken_stream(caplog):
    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError("closed pipe")

    exporter = ConsoleExporter(stream=Broken())
    with caplog.at_level(logging.WARNING):
        exporter.export_event(_event("agent_start"))
    assert "closed pipe" in caplog.text


def test_exporters_satisfy_the_exporter_protocol(tmp_path):
    assert isinstance(ConsoleExporter(), TraceExporter)
    with JsonlExporter(tmp_path / "t.jsonl") as jsonl:
        assert isinstance(jsonl, TraceExporter)


def test_jsonl_creates_parent_folders_and_appends_one_event_per_line(tmp_path):
    path = tmp_path / "traces" / "deep" / "run.jsonl"
    with JsonlExporter(path) as exporter:
        exporter.export_event(_event("agent_start"))
        exporter.export_event(_event("agent_end", duration_seconds=0.1))
    with JsonlExporter(path) as exporter:  # a second run appends
        exporter.export_event(_event("agent_start"))
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [r["event_type"] for r in rows] == ["agent_start", "agent_end", "agent_start"]
    assert rows[1]["payload"] == {"duration_seconds": 0.1}


def test_jsonl_serialises_objects_it_does_not_know_instead_of_dropping_the_event(tmp_path):
    path = tmp_path / "run.jsonl"
    with JsonlExporter(path, raise_errors=True) as exporter:
        exporter.export_event(_event("llm_call", path=Path("/x"), tags={"a"}))
    row = orjson.loads(path.read_bytes())
    assert row["payload"] == {"path": "/x", "tags": ["a"]}


def test_jsonl_never_interleaves_lines_from_many_threads(tmp_path):
    path = tmp_path / "run.jsonl"
    exporter = JsonlExporter(path)
    bus = TraceEventBus()
    bus.subscribe(exporter.export_event)
    big = "x" * 20_000  # bigger than a pipe buffer: a split write would show

    def worker(n: int) -> None:
        for i in range(100):
            bus.emit(_event("llm_call", worker=n, i=i, text=big))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    exporter.shutdown()
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert len(rows) == 600
    assert exporter.events_written == 600


def test_jsonl_after_close_drops_the_event_and_logs(tmp_path, caplog):
    exporter = JsonlExporter(tmp_path / "run.jsonl")
    exporter.close()
    with caplog.at_level(logging.WARNING):
        exporter.export_event(_event("agent_start"))
    assert exporter.error_count == 1
    assert "is closed" in caplog.text


def test_jsonl_raise_errors_surfaces_failures(tmp_path):
    exporter = JsonlExporter(tmp_path / "run.jsonl", raise_errors=True)
    exporter.close()
    with pytest.raises(ValueError, match="is closed"):
        exporter.export_event(_event("agent_start"))


def test_jsonl_flush_and_shutdown_report_success(tmp_path):
    exporter = JsonlExporter(tmp_path / "run.jsonl")
    exporter.export_event(_event("agent_start"))
    assert exporter.flush() is True
    assert exporter.shutdown() is True
    assert exporter.shutdown() is True, "shutdown twice is harmless"
