"""Recorder.save / Recorder.load against plain orjson on the same data; bus emit cost.

Run: .venv/bin/python bench/bench_recorder.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_seconds, paired_medians

from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.recorder import Recorder

MESSAGE = "Summarise the quarterly report and list the three biggest risks. " * 8  # ~520 bytes


def build_recorder(n: int) -> Recorder:
    recorder = Recorder()
    for i in range(n):
        recorder.record_llm_call(
            agent_name=f"agent-{i % 5}",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": MESSAGE}],
            response=f"Answer {i}: revenue grew, margins fell, guidance held.",
            model="gpt-4o-mini",
            input_tokens=130,
            output_tokens=14,
            cost_usd=0.0000279,
            duration_ms=812.5,
            timestamp=1_700_000_000.0 + i,
        )
    return recorder


def bench_files(n: int, folder: Path) -> list[str]:
    recorder = build_recorder(n)
    dicts = [orjson.loads(orjson.dumps(e)) for e in recorder.entries]
    ours, floor = folder / f"ours-{n}.jsonl", folder / f"floor-{n}.jsonl"
    repeats = 9 if n <= 10_000 else 5

    def floor_save() -> None:
        floor.write_bytes(b"".join(orjson.dumps(d, option=orjson.OPT_APPEND_NEWLINE) for d in dicts))

    def floor_load() -> None:
        [orjson.loads(line) for line in floor.read_bytes().splitlines()]

    save = paired_medians(lambda: recorder.save(ours), floor_save, repeats)
    load = paired_medians(lambda: Recorder.load(ours), floor_load, repeats)
    return [
        f"| {name} | {n:,} | {a * 1000:.1f} | {b * 1000:.1f} | {ratio:.2f}x |"
        for name, (a, b, ratio) in (("save", save), ("load", load))
    ]


def bench_bus(events: int = 50_000, repeats: int = 7) -> str:
    bus = TraceEventBus()
    sink: list[TraceEvent] = []
    bus.subscribe(sink.append)
    bus.subscribe(lambda e: None)
    bus.subscribe_filter({"agent_end"}, lambda e: None)
    event = TraceEvent(time.time(), "agent_start", "analyst", "pipeline", {"model": "gpt-4o-mini"})

    def run() -> None:
        for _ in range(events):
            bus.emit(event)
        sink.clear()

    per_event = median_seconds(run, repeats) / events
    return f"| `TraceEventBus.emit` to 3 subscribers | {per_event * 1e9:,.0f} ns per event |"


def main() -> None:
    print("| operation | LLM calls | Recorder (ms) | plain orjson floor (ms) | median ratio |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10_000, 100_000):
            for row in bench_files(n, Path(tmp)):
                print(row, flush=True)
    print()
    print("| operation | median |")
    print("|---|---:|")
    print(bench_bus())


if __name__ == "__main__":
    main()
