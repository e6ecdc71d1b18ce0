"""What does traced_agent cost per call, next to the cheapest possible span?

Run: .venv/bin/python bench/bench_traced_agent.py [--calls 2000] [--repeats 20] [--breakdown]

Three loops over the same pyagent-patterns Agent with a trivial async LLM:
  1. untraced    ``await agent.run(msgs)``
  2. traced      the same agent after ``traced_agent(agent, tracer_provider=provider)``
  3. floor       untraced call inside a bare ``tracer.start_as_current_span("x")``
Spans go through SimpleSpanProcessor into an InMemorySpanExporter (cleared between
repeats). Each repeat times ``--calls`` calls; the table shows the median ns per call.
The loops are interleaved repeat by repeat so that drifting CPU clocks hit all three alike.

``--breakdown`` adds reference loops that show where the traced overhead goes:
  bare span      ``tracer.start_span`` + attach/detach + ``end``, no attributes
  bare + attrs   the same plus one ``set_attributes`` of the attributes traced_agent
                 writes (precomputed: the SDK's per-key validation cost, nothing of ours)
  naive          ``start_as_current_span`` with the static attributes, then one
                 ``set_attribute`` per value at the end
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry.context import attach, detach
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer, set_span_in_context
from pyagent_patterns.base import Agent, Message

from pyagent_trace.spans import traced_agent

TARGET_RATIO = 1.2


class TrivialLLM:
    """Answers at once; ``_model`` makes the traced agent look up a real price."""

    def __init__(self, model: str | None) -> None:
        if model:
            self._model = model

    async def __call__(self, messages: list[Message]) -> str:
        return "A short answer."


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def _time(call: Callable[[], Awaitable[object]], calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        await call()
    return (time.perf_counter_ns() - start) / calls


async def _measure(model: str | None, calls: int, repeats: int, breakdown: bool) -> dict[str, float]:
    provider, exporter = _provider()
    tracer = provider.get_tracer("bench")
    messages = [Message.user("Summarise the quarterly report in one line.")]
    plain = Agent("writer", TrivialLLM(model), system_prompt="Be concise.")
    traced = Agent("writer", TrivialLLM(model), system_prompt="Be concise.")
    traced_agent(traced, tracer_provider=provider)

    async def untraced() -> object:
        return await plain.run(messages)

    async def with_traced_agent() -> object:
        return await traced.run(messages)

    async def floor() -> object:
        with tracer.start_as_current_span("x"):
            return await plain.run(messages)

    loops = {"untraced": untraced, "traced_agent": with_traced_agent, "floor": floor}
    if breakdown:
        await traced.run(messages)  # the attributes traced_agent writes, for the references
        written = dict(exporter.get_finished_spans()[-1].attributes or {})
        loops.update(_reference_loops(tracer, plain, messages, written))
    samples: dict[str, list[float]] = {name: [] for name in loops}
    for call in loops.values():  # warm-up: caches, first-call imports
        await _time(call, calls // 10 or 1)
    for _ in range(repeats):
        for name, call in loops.items():
            exporter.clear()
            gc.collect()
            samples[name].append(await _time(call, calls))
    exporter.clear()
    return {name: statistics.median(values) for name, values in samples.items()}


def _reference_loops(
    tracer: Tracer, plain: Agent, messages: list[Message], written: dict[str, Any]
) -> dict[str, Callable[[], Awaitable[object]]]:
    static = {k: v for k, v in written.items() if isinstance(v, str) or v is True}
    dynamic = {k: v for k, v in written.items() if k not in static}

    async def bare_span() -> object:
        span = tracer.start_span("x")
        token = attach(set_span_in_context(span))
        try:
            return await plain.run(messages)
        finally:
            detach(token)
            span.end()

    async def bare_with_attributes() -> object:
        span = tracer.start_span("x")
        token = attach(set_span_in_context(span))
        try:
            return await plain.run(messages)
        finally:
            detach(token)
            span.set_attributes(written)
            span.end()

    async def naive() -> object:
        with tracer.start_as_current_span("x", attributes=static) as span:
            reply = await plain.run(messages)
            for key, value in dynamic.items():
                span.set_attribute(key, value)
            return reply

    return {"bare span": bare_span, "bare + attrs": bare_with_attributes, "naive": naive}


def _table(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "| model | untraced ns/call | traced_agent ns/call | floor ns/call "
        "| overhead traced | overhead floor | ratio traced/floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in results.items():
        traced = r["traced_agent"] - r["untraced"]
        floor = r["floor"] - r["untraced"]
        lines.append(
            f"| {label} | {r['untraced']:,.0f} | {r['traced_agent']:,.0f} | {r['floor']:,.0f} "
            f"| {traced:,.0f} | {floor:,.0f} | {traced / floor:.2f} |"
        )
    return "\n".join(lines)


def _breakdown(results: dict[str, dict[str, float]]) -> str:
    lines = ["| model | loop | overhead ns/call | ratio to floor |", "|---|---|---:|---:|"]
    for label, r in results.items():
        floor = r["floor"] - r["untraced"]
        for name in ("floor", "bare span", "bare + attrs", "traced_agent", "naive"):
            overhead = r[name] - r["untraced"]
            lines.append(f"| {label} | {name} | {overhead:,.0f} | {overhead / floor:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per repeat")
    parser.add_argument("--repeats", type=int, default=20, help="repeats; the median is shown")
    parser.add_argument("--breakdown", action="store_true", help="add reference loops (slower)")
    args = parser.parse_args()
    results = {
        label: asyncio.run(_measure(model, args.calls, args.repeats, args.breakdown))
        for label, model in (("gpt-4o-mini (priced)", "gpt-4o-mini"), ("none (unpriced)", None))
    }
    print(_table(results))
    if args.breakdown:
        print("\n" + _breakdown(results))
    print(f"\ntarget: ratio <= {TARGET_RATIO} ({args.repeats} repeats x {args.calls} calls, median)")


if __name__ == "__main__":
    main()
