"""The scrubber's cost per entry, on the 74 real provider interactions of shared/real-traffic.

Run: .venv/bin/python bench/bench_scrub.py [ROUNDS]     (default 15 rounds)

Each interaction is given an ``authorization`` header with a key (as an SDK sends it) and
turned into its ``http_interaction`` entry, then scrubbed the ways compared here, in one
run, interleaved round by round (machine noise hits all alike):

* ``before``: the scrubber this project had before the one scrubber (``scrub_http`` of the
  commit 3ea0af2: headers, query, body paths, shapes; no field names, no values, no
  stream assembly, no binary bodies), read from git.
* ``record``: what recording does now per entry (``HttpCassette``):
  ``Scrubber.http(scan=False, streams=False)`` (by name, learning values; binary bodies)
  then ``Scrubber.entry(structured=False)`` (every string of the entry by shape and by the
  learnt values; the stream's events only when its assembled text holds a secret), one
  scrubber for all entries, as one cassette has.
* ``cli``: ``Scrubber.entry`` of an entry read back (what ``scrub``/``audit`` do per line).
* ``dumps``: ``orjson.dumps`` of the entry: the cost of writing it, for scale.
* ``lookup before`` / ``lookup``: the replay path: the live request (method, url, body;
  now also its headers, whose secret values may echo in the body) scrubbed before its key
  is taken, per replayed request.

Medians of the per-round mean µs per entry; ratios are per-round medians against ``before``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from real_traffic import as_interaction, index, load  # noqa: E402

from pyagent_trace.http._entry import build_entry  # noqa: E402
from pyagent_trace.pricing import DEFAULT_PRICES  # noqa: E402
from pyagent_trace.scrub import Scrubber  # noqa: E402

KEY = "sk-proj-" + "Q7w8E9r0T1y2U3i4O5p6A7s8D9f0G1h2"
BEFORE_COMMIT = "3ea0af2"


def old_scrubber() -> Any:
    source = subprocess.run(
        ["git", "show", f"{BEFORE_COMMIT}:pyagent_trace/scrub.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("old_scrub")
    sys.modules["old_scrub"] = module  # dataclasses look their module up
    exec(compile(source, "old_scrub.py", "exec"), module.__dict__)
    return module


def interactions() -> list[dict[str, Any]]:
    out = []
    for row in index():
        interaction = as_interaction(load(row["file"]))
        interaction["request"]["headers"]["authorization"] = [f"Bearer {KEY}"]
        out.append(interaction)
    return out


def per_entry_us(func: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) / count * 1e6


def main(rounds: int) -> None:
    old = old_scrubber()
    items = interactions()
    entries = [
        build_entry(i, timestamp=0.0, duration_ms=0.0, prices=DEFAULT_PRICES)
        for i in (Scrubber().http(x, scan=False)[0] for x in items)
    ]
    read_back = [Scrubber().entry(e)[0] for e in entries]

    def before() -> None:
        for interaction in items:
            old.scrub_http(interaction)

    def record() -> None:
        scrubber = Scrubber()
        for interaction, entry in zip(items, entries, strict=True):
            scrubber.http(interaction, scan=False, streams=False)
            scrubber.entry(entry, structured=False)

    def cli() -> None:
        scrubber = Scrubber()
        for entry in read_back:
            scrubber.entry(entry)

    def dumps() -> None:
        for entry in entries:
            orjson.dumps(entry)

    sides = [{k: i["request"][k] for k in ("method", "url", "body")} for i in items]

    def lookup_before() -> None:
        for side in sides:
            old.scrub_http({"request": side})

    def lookup() -> None:
        scrubber = Scrubber()
        for interaction, side in zip(items, sides, strict=True):
            scrubber.http({"request": {**side, "headers": interaction["request"]["headers"]}})

    runs = {"before": before, "record": record, "cli": cli, "dumps": dumps,
            "lookup before": lookup_before, "lookup": lookup}  # fmt: skip
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, func in runs.items():
            samples[name].append(per_entry_us(func, len(items)))
    size = statistics.median(len(orjson.dumps(e)) for e in entries)
    print(f"{len(items)} real interactions (median entry {size / 1024:.1f} KiB), {rounds} rounds")
    print("| scrub | µs per entry (median) | ratio to its before |")
    print("|---|---:|---:|")
    for name, values in samples.items():
        base = samples["lookup before" if name.startswith("lookup") else "before"]
        ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
        print(f"| {name} | {statistics.median(values):.1f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
