"""Docs: "PatternSpanEmitter — Manual Control".

``GeminiLLM`` / ``AnthropicLLM`` are replaced by ReplayLLM over a shipped recording of the
debate; spans are printed by an in-memory exporter at the end.
"""

import asyncio
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pyagent_patterns.base import Agent
from pyagent_patterns.resolution import Debate

from pyagent_trace import PatternSpanEmitter, traced_agent
from pyagent_trace.recorder import ReplayLLM

RECORDING = Path(__file__).parent / "recordings" / "debate.jsonl"
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)


def replay(agent_name):
    return ReplayLLM.from_recording(RECORDING, agent_name=agent_name)


debate = Debate(
    debaters=[
        traced_agent(Agent("bull", replay("bull"), system_prompt="Argue the bull case.")),
        traced_agent(Agent("bear", replay("bear"), system_prompt="Argue the bear case.")),
    ],
    judge=traced_agent(Agent("judge", replay("judge"), system_prompt="Render a final verdict.")),
    rounds=2,
)
emitter = PatternSpanEmitter(service_name="investment-analysis")


async def run_traced():
    span = emitter.pattern_span("debate", attributes={"rounds": 2, "topic": "nvidia_investment"})
    try:
        result = await debate.run("Should we buy Nvidia at $3.2T market cap?")
        emitter.set_pattern_result(
            span,
            output_len=len(result.output),
            rounds=result.metadata.get("rounds", 2),
            cost_estimate=result.cost_estimate,
        )
        return result
    except Exception as exc:
        emitter.record_error(span, exc)
        raise
    finally:
        span.end()


result = asyncio.run(run_traced())
print(result.output)
for span in exporter.get_finished_spans():
    parent = "root" if span.parent is None else "child"
    print(f"{span.name} ({parent})")
