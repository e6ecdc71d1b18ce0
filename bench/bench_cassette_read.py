"""Cost of reading (and validating) cassette entries: µs per entry, against a floor.

``load_entries`` (the one reader: stream, check, build) runs side by side, interleaved, with
a floor that only parses each line with orjson and builds the ``RecordEntry`` unchecked.
The difference is what reading safely costs. Cassettes: the LLM-level ones of
examples/agent_suite, and an HTTP cassette built from shared/real-traffic (74 real
provider interactions).

Run: .venv/bin/python bench/bench_cassette_read.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from real_traffic import as_interaction, index, load  # noqa: E402

from pyagent_trace._recording import RecordEntry, load_entries, save_entries  # noqa: E402
from pyagent_trace.http._entry import build_entry  # noqa: E402
from pyagent_trace.pricing import price_table  # noqa: E402

ROUNDS = 31


def floor(paths: list[Path]) -> int:
    count = 0
    for path in paths:
        for line in path.read_bytes().splitlines():
            row = orjson.loads(line)
            if row.get("event_type") != "recording_header":
                RecordEntry(**row)
                count += 1
    return count


def ours(paths: list[Path]) -> int:
    return sum(len(load_entries(path)) for path in paths)


def per_entry_us(func: object, paths: list[Path], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        n = func(paths)  # type: ignore[operator]
    return (time.perf_counter() - start) / (repeat * n) * 1e6


def http_cassette(folder: Path) -> Path:
    prices = price_table(None)
    entries = [
        build_entry(as_interaction(load(row["file"])), timestamp=1.7e9, duration_ms=10.0, prices=prices)
        for row in index()
    ]
    return save_entries(folder / "http.jsonl", entries)


def main() -> None:
    agent_suite = sorted((ROOT / "examples" / "agent_suite" / "cassettes").rglob("*.jsonl"))
    with tempfile.TemporaryDirectory() as tmp:
        sets = {"agent_suite (llm_call)": (agent_suite, 400), "real-traffic (http)": ([http_cassette(Path(tmp))], 40)}
        print("| cassettes | entries | load_entries µs/entry | floor µs/entry | checks µs/entry | ratio |")
        print("|---|---|---|---|---|---|")
        for name, (paths, repeat) in sets.items():
            a_s, b_s = [], []
            for _ in range(ROUNDS):
                a_s.append(per_entry_us(ours, paths, repeat))
                b_s.append(per_entry_us(floor, paths, repeat))
            a, b = statistics.median(a_s), statistics.median(b_s)
            print(f"| {name} | {ours(paths)} | {a:.2f} | {b:.2f} | {a - b:.2f} | {a / b:.2f}x |")


if __name__ == "__main__":
    main()
