"""Per-call cost of the ways to trace one agent call, next to an untraced call and a bare span.

Run: .venv/bin/python bench/bench_exporters.py [--calls 2000] [--repeats 21]

Four loops over a pyagent-patterns Agent with a trivial async LLM:
  a. untraced       ``await agent.run(msgs)``
  b. traced_agent   the agent wrapped by ``pyagent_trace.spans.traced_agent``
  c. bus -> bridge  ``agent.set_trace_bus(bus)``, the bus feeding ``OpenTelemetryBridge``
                    (two events per call: agent_start and agent_end)
  d. floor          the untraced call inside a bare ``tracer.start_as_current_span``
Every span goes through SimpleSpanProcessor into an InMemorySpanExporter (cleared before
each sample). Each sample times ``--calls`` calls in one event loop; the loops are
interleaved sample by sample so machine noise hits all four alike; medians are shown.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pyagent_patterns.base import Agent, Message

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_seconds

from pyagent_trace.events import TraceEventBus
from pyagent_trace.exporters.otel import OpenTelemetryBridge
from pyagent_trace.spans import traced_agent


class TrivialLLM:
    _model = "gpt-4o-mini"

    async def __call__(self, messages: list[Message]) -> str:
        return "A short answer."


def build_loops(provider: TracerProvider) -> dict[str, Callable[[], Awaitable[object]]]:
    messages = [Message.user("Summarise the quarterly report in one line.")]
    plain = Agent("writer", TrivialLLM(), system_prompt="Be concise.")
    traced = traced_agent(Agent("writer", TrivialLLM(), system_prompt="Be concise."), tracer_provider=provider)
    bus = TraceEventBus()
    bus.subscribe(OpenTelemetryBridge(provider).export_event)
    bussed = Agent("writer", TrivialLLM(), system_prompt="Be concise.").set_trace_bus(bus)
    tracer = provider.get_tracer("bench")

    async def floor() -> object:
        with tracer.start_as_current_span("invoke_agent writer"):
            return await plain.run(messages)

    return {
        "a. untraced": lambda: plain.run(messages),
        "b. traced_agent": lambda: traced.run(messages),
        "c. bus -> OpenTelemetryBridge": lambda: bussed.run(messages),
        "d. floor: bare span": floor,
    }


def measure(calls: int, repeats: int) -> dict[str, float]:
    """Median seconds per call of each loop."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    loops = build_loops(provider)
    loop = asyncio.new_event_loop()

    async def batch(call: Callable[[], Awaitable[object]], n: int) -> None:
        for _ in range(n):
            await call()

    def sample(call: Callable[[], Awaitable[object]]) -> float:
        return median_seconds(lambda: loop.run_until_complete(batch(call, calls)), 1, setup=exporter.clear)

    for call in loops.values():  # warm-up: first-call imports, caches
        loop.run_until_complete(batch(call, calls // 10 or 1))
    samples: dict[str, list[float]] = {name: [] for name in loops}
    names = list(loops)
    for i in range(repeats):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate the order too
            samples[name].append(sample(loops[name]) / calls)
    loop.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def table(results: dict[str, float]) -> str:
    untraced = results["a. untraced"]
    floor = results["d. floor: bare span"] - untraced
    lines = [
        "| loop | µs per call | x untraced | overhead µs | overhead / floor overhead |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, seconds in results.items():
        overhead = seconds - untraced
        ratio = "—" if name == "a. untraced" else f"{overhead / floor:.2f}"
        lines.append(f"| {name} | {seconds * 1e6:.1f} | {seconds / untraced:.2f} | {overhead * 1e6:.1f} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per sample")
    parser.add_argument("--repeats", type=int, default=21, help="samples per loop; the median is shown")
    args = parser.parse_args()
    print(table(measure(args.calls, args.repeats)))
    python = sys.version.split()[0]
    print(f"\n{args.repeats} interleaved samples x {args.calls} calls per loop, median; Python {python}")


if __name__ == "__main__":
    main()
