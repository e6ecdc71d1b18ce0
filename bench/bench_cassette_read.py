"""Cost of reading (and validating) cassette entries: µs per entry, against a floor.

``load_entries`` (the one reader: regular file only, bounded lines, the full schema) runs
side by side, interleaved, with the reader it replaced (``before``: whole-file read, numeric
type check only; copied below as it was) and a floor that only parses each line with orjson
and builds the ``RecordEntry`` unchecked. Cassettes: the LLM-level ones of
examples/agent_suite, and an HTTP cassette built from shared/real-traffic (74 real
provider interactions).

Run: .venv/bin/python bench/bench_cassette_read.py
"""

from __future__ import annotations

import gc
import itertools
import statistics
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

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


_NUMERIC = ("timestamp", "duration_ms", "input_tokens", "output_tokens", "tokens", "cost_usd")
_NUMBER_TYPES = frozenset(itertools.product((int, float), repeat=len(_NUMERIC)))
_FIELDS = frozenset(f.name for f in fields(RecordEntry))


def _old_check(raw: dict[str, Any]) -> None:
    if type(raw.get("event_type")) is not str:
        raise ValueError
    get = raw.get
    if tuple([type(get(key, 0)) for key in _NUMERIC]) in _NUMBER_TYPES:
        return
    raise ValueError


def before(paths: list[Path]) -> int:
    """The reader before the schema (commit 3ea0af2), minus its error messages."""
    count = 0
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(path)
        entries = []
        gc.disable()
        try:
            for line in path.read_bytes().split(b"\n"):
                if not line:
                    continue
                row = orjson.loads(line)
                if row.get("event_type") == "recording_header":
                    if type(row.get("format_version")) is not int:
                        raise ValueError
                    continue
                _old_check(row)
                entries.append(RecordEntry(**row))
        finally:
            gc.enable()
        count += len(entries)
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
        print("| cassettes | entries | now µs/entry | before µs/entry | floor µs/entry | now/before | now/floor |")
        print("|---|---|---|---|---|---|---|")
        for name, (paths, repeat) in sets.items():
            samples: dict[str, list[float]] = {"now": [], "before": [], "floor": []}
            for _ in range(ROUNDS):
                for label, func in (("now", ours), ("before", before), ("floor", floor)):
                    samples[label].append(per_entry_us(func, paths, repeat))
            now, old, bare = (statistics.median(samples[k]) for k in ("now", "before", "floor"))
            figures = f"{now:.2f} | {old:.2f} | {bare:.2f} | {now / old:.2f}x | {now / bare:.2f}x"
            print(f"| {name} | {ours(paths)} | {figures} |")


if __name__ == "__main__":
    main()
