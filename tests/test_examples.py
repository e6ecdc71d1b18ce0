"""Every code example of the product docs runs as a script (examples/docs/) and says what the docs say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "examples" / "docs"


def run_example(name: str, cwd: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, str(DOCS / name)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def test_event_bus_example_prints_both_subscribers(tmp_path):
    out = run_example("events_bus.py", tmp_path)
    assert out.splitlines() == ["[agent_start] analyst", "Agent event: {'model': 'claude-sonnet-4-20250514'}"]


def test_agent_hooks_example_prints_the_documented_console_lines(tmp_path):
    lines = run_example("agent_hooks.py", tmp_path).splitlines()
    assert lines[0] == "[agent_start] agent=analyst"
    assert lines[1].startswith("[cost_record] agent=analyst tokens=")
    assert "cost=0.000" in lines[1]
    assert lines[2].startswith("[agent_end] agent=analyst duration_ms=")
    assert lines[3].startswith("Q3 revenue rose 8%")


def test_decorator_example_emits_pattern_and_agent_spans(tmp_path):
    out = run_example("decorator_tracing.py", tmp_path)
    assert '"name": "invoke_workflow pipeline"' in out
    assert '"name": "invoke_agent extractor"' in out
    assert '"name": "invoke_agent writer"' in out
    assert "Tesla Q3: revenue beat consensus" in out


def test_pattern_span_emitter_example_nests_five_agent_spans_under_the_debate(tmp_path):
    lines = run_example("pattern_span_emitter.py", tmp_path).splitlines()
    assert lines[0].startswith("Verdict: HOLD.")
    assert lines[1:] == [
        "invoke_agent bull (child)",
        "invoke_agent bear (child)",
        "invoke_agent bull (child)",
        "invoke_agent bear (child)",
        "invoke_agent judge (child)",
        "invoke_workflow debate (root)",
    ]


def test_cost_tracker_example_prints_the_documented_numbers(tmp_path):
    out = run_example("cost_tracker.py", tmp_path)
    assert "Total session cost: $0.0103" in out
    assert "By pattern: {'debate': 0.01032}" in out
    assert "By model: {'gemini-2.5-flash': 0.00192, 'claude-sonnet-4-20250514': 0.0084}" in out
    assert "By agent: {'bull': 0.00094, 'bear': 0.00098, 'judge': 0.0084}" in out
    assert "If 500 runs/day: $5.16/day" in out


def test_recorder_example_writes_and_replays_the_recording(tmp_path):
    out = run_example("recorder_replay.py", tmp_path)
    assert "Recorded 4 events" in out
    assert "Total cost: $0.00015" in out
    assert " tokens: 180+42, cost: $0.00006" in out
    assert (tmp_path / "traces" / "pipeline_run_001.jsonl").exists()


@pytest.mark.parametrize("script", sorted(p.name for p in DOCS.glob("*.py")))
def test_every_docs_example_has_a_test(script):
    tested = Path(__file__).read_text() + "".join(
        p.read_text() for p in Path(__file__).parent.rglob("test_docs_examples*.py")
    )
    assert script in tested, f"examples/docs/{script} has no test that runs it"
