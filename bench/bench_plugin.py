"""The pytest plugin's costs: (a) session overhead on 500 trivial tests that do not use it,
installed vs ``-p no:pyagent_trace``; (b) LLM-level replay cost per call for cassettes of
100, 1,000 and 10,000 calls; (c) the accounting path every call takes (cost tracker entry,
GenAI span of an HTTP call, bus event when someone listens).

Run: .venv/bin/python bench/bench_plugin.py
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from pyagent_trace._recording import RecordEntry, save_entries
from pyagent_trace.cassette import Cassette, RecordMode
from pyagent_trace.cost import CostTracker
from pyagent_trace.events import TraceEventBus

TRIVIAL_TESTS = 500


def _pytest_seconds(folder: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, str(folder)],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def bench_session_overhead(repeats: int = 11) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n")
        body = "\n\n".join(f"def test_{i}():\n    assert {i} + 1 > {i}" for i in range(TRIVIAL_TESTS))
        (folder / "test_trivial.py").write_text(body + "\n")
        with_plugin, without, ratios = [], [], []
        for _ in range(repeats):  # interleaved so machine noise hits both alike
            a = _pytest_seconds(folder)
            b = _pytest_seconds(folder, "-p", "no:pyagent_trace")
            with_plugin.append(a)
            without.append(b)
            ratios.append(a / b)
    overhead = (statistics.median(ratios) - 1) * 100
    return (
        f"| {TRIVIAL_TESTS} trivial tests, plugin installed | {statistics.median(with_plugin) * 1000:.0f} ms |\n"
        f"| same, `-p no:pyagent_trace` | {statistics.median(without) * 1000:.0f} ms |\n"
        f"| overhead (median of paired ratios) | {overhead:+.1f}% |"
    )


def _messages(i: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"question {i} " * 20}]


async def _replay_all(llms: dict[str, Any], requests: list[tuple[str, list[dict[str, str]]]]) -> None:
    for agent, messages in requests:
        await llms[agent](messages)


def _cassette_file(folder: Path, calls: int) -> Path:
    entries = [
        RecordEntry(
            "llm_call",
            agent_name=f"agent-{i % 4}",
            model="gpt-4o-mini",
            input_tokens=120,
            output_tokens=40,
            tokens=160,
            cost_usd=0.0000420,
            messages=_messages(i),
            response=f"answer {i}",
        )
        for i in range(calls)
    ]
    return save_entries(folder / f"c{calls}.jsonl", entries)


def bench_replay_per_call(sizes: tuple[int, ...] = (100, 1_000, 10_000), repeats: int = 5) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for calls in sizes:
            path = _cassette_file(Path(tmp), calls)
            requests = [
                (
                    f"agent-{i % 4}",
                    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"question {i} " * 20}],
                )
                for i in range(calls)
            ]
            samples = []
            for _ in range(repeats):
                tracker = CostTracker(event_bus=TraceEventBus())
                cassette = Cassette(
                    path, RecordMode.NONE, tracker=tracker, bus=TraceEventBus(), record_command="", rerecord_command=""
                )
                llms = {f"agent-{a}": cassette.llm(agent_name=f"agent-{a}") for a in range(4)}
                start = time.perf_counter()
                asyncio.run(_replay_all(llms, requests))
                samples.append((time.perf_counter() - start) / calls)
            rows.append(f"| {calls:,} | {statistics.median(samples) * 1e6:.1f} µs |")
    return rows


def _http_entry() -> RecordEntry:
    interaction = {
        "request": {"method": "POST", "url": "https://api.openai.com/v1/chat/completions", "headers": {},
                    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}},
        "response": {"status": 200, "headers": {}, "body": {"usage": {"prompt_tokens": 120, "completion_tokens": 30}}},
    }  # fmt: skip
    return RecordEntry(
        "http_interaction", model="gpt-4o-mini", input_tokens=120, output_tokens=30, tokens=150,
        cost_usd=0.0000360, metadata={"provider": "openai", "operation": "chat", "http": interaction},
    )  # fmt: skip


def bench_accounting(calls: int = 20_000, repeats: int = 7) -> list[str]:
    """µs per call of ``Cassette.account`` (+ the GenAI span for an HTTP call), three ways."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from pyagent_trace.http.spans import emit_genai_span

    entry = _http_entry()
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def run(listening: bool, spans: bool) -> float:
        samples = []
        for _ in range(repeats):
            bus = TraceEventBus()
            if listening:
                bus.subscribe(lambda event: None)
            cassette = Cassette(Path("unused.jsonl"), RecordMode.NONE, bus=bus, baseline=None)
            start = time.perf_counter()
            for _ in range(calls):
                cassette.account(entry, replayed=True)
                if spans:
                    emit_genai_span(entry, provider)
            samples.append((time.perf_counter() - start) / calls)
            exporter.clear()
        return statistics.median(samples) * 1e6

    return [
        f"| cost tracker entry (nobody listens on the bus) | {run(False, False):.1f} µs |",
        f"| + `llm_call` bus event to one subscriber | {run(True, False):.1f} µs |",
        f"| + GenAI CLIENT span (SDK provider, in-memory exporter) | {run(True, True):.1f} µs |",
    ]


def main() -> None:
    print("| (a) session overhead | median |")
    print("|---|---:|")
    print(bench_session_overhead(), flush=True)
    print()
    print("| (b) calls in cassette | replay cost per call (lookup by messages, cost tracker) |")
    print("|---:|---:|")
    for row in bench_replay_per_call():
        print(row, flush=True)
    print()
    print("| (c) accounting path, per call | median |")
    print("|---|---:|")
    for row in bench_accounting():
        print(row, flush=True)


if __name__ == "__main__":
    main()
