"""examples/docs/trace_service.py: the docs' TraceService snippet over its shipped recording."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "examples" / "docs" / "trace_service.py"


def test_trace_service_example_runs_from_any_directory_and_prints_hand_checked_numbers(tmp_path):
    """extractor 180+42 = 222 tokens, writer 60+85 = 145, total 367 and $0.00006 + $0.00009."""
    result = subprocess.run([sys.executable, str(SCRIPT)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Spans: 4",
        "  [pattern_start] : 0ms, 0 tokens",
        "  [llm_call] extractor: 1240ms, 222 tokens",
        "  [llm_call] writer: 2310ms, 145 tokens",
        "  [pattern_end] : 3560ms, 367 tokens",
        "LLM calls: ['extractor', 'writer']",
        "Slow spans (>= 2 s): [('llm_call', 'writer'), ('pattern_end', '')]",
        "Total: 2 calls, 367 tokens, $0.00015",
    ]
