"""Docs: "Quick Start — Decorator Tracing".

``AnthropicLLM`` / ``OpenAILLM`` are replaced by ReplayLLM over a shipped recording. Spans go
to the console here so you can see them; point the provider at Jaeger/Tempo in real use.
"""

import asyncio
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from pyagent_patterns.base import Agent
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import traced_agent, traced_pattern
from pyagent_trace.recorder import ReplayLLM

RECORDING = Path(__file__).parent / "recordings" / "pipeline.jsonl"


def AnthropicLLM(model):
    return ReplayLLM.from_recording(RECORDING, agent_name="extractor")


def OpenAILLM(model):
    return ReplayLLM.from_recording(RECORDING, agent_name="writer")


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
trace.set_tracer_provider(provider)


# Every pipeline.run() automatically emits OTel spans
@traced_pattern
class TracedPipeline(Pipeline):
    pass


pipeline = TracedPipeline(
    stages=[
        traced_agent(Agent("extractor", AnthropicLLM("claude-haiku-3-5-20241022"), system_prompt="Extract key facts.")),
        traced_agent(Agent("writer", OpenAILLM("gpt-4o-mini"), system_prompt="Write a concise brief.")),
    ]
)

result = asyncio.run(pipeline.run("Tesla Q3 2025 earnings report..."))
print(result.output)
# Spans emitted to configured OTel backend automatically
