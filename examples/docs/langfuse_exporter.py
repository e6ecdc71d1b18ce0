"""Docs: "OTel Backend Setup: Langfuse (production LLM observability)".

Keys and host come from ``LANGFUSE_PUBLIC_KEY`` / ``LANGFUSE_SECRET_KEY`` / ``LANGFUSE_HOST``,
with the docs' values as defaults. The docs leave ``pipeline`` undefined ("wire bus to
agents or patterns"): here it is a two-stage Pipeline whose agents replay a shipped
recording, with a CostTracker so each LLM call reaches Langfuse as a generation with its
model, tokens and cost. Nothing is flushed by hand: the exporter sends the rest at exit.
"""

import asyncio
import os
from pathlib import Path

from pyagent_patterns.base import Agent
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import CostTracker
from pyagent_trace.events import TraceEventBus
from pyagent_trace.exporters.langfuse import LangfuseExporter
from pyagent_trace.recorder import ReplayLLM

RECORDING = Path(__file__).parent / "recordings" / "pipeline.jsonl"

bus = TraceEventBus()
bus.subscribe(
    LangfuseExporter(
        public_key=os.environ.get("LANGFUSE_PUBLIC_KEY", "pk-lf-..."),
        secret_key=os.environ.get("LANGFUSE_SECRET_KEY", "sk-lf-..."),
        host=os.environ.get("LANGFUSE_HOST", "https://cloud.langfuse.com"),  # or self-hosted
    ).export_event
)
# Wire bus to agents or patterns, then run
tracker = CostTracker(event_bus=bus)
stages = [
    Agent("extractor", ReplayLLM.from_recording(RECORDING, "extractor"), system_prompt="Extract key facts."),
    Agent("writer", ReplayLLM.from_recording(RECORDING, "writer"), system_prompt="Write a concise brief."),
]
for agent in stages:
    agent.set_trace_bus(bus).set_cost_tracker(tracker)
pipeline = Pipeline(stages=stages).set_trace_bus(bus)

# Every agent_start/end and llm_call event flows to Langfuse as a span/generation
result = asyncio.run(pipeline.run("Analyse this document"))
print(result.output)
# Visit Langfuse dashboard to see full trace tree with token costs
print(f"Trace sent to Langfuse; {tracker.call_count} generations, ${tracker.total_cost:.6f}")
