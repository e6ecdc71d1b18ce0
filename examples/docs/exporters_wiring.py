"""Docs: "Built-in Exporters" — one bus, three exporters.

Console lines go to stdout, every event to ``traces/run_001.jsonl`` (relative to the
current directory, as in the docs), and the run to Langfuse. The Langfuse keys and host
come from ``LANGFUSE_PUBLIC_KEY`` / ``LANGFUSE_SECRET_KEY`` / ``LANGFUSE_HOST`` with the docs'
values as defaults. The agents replay a shipped recording (zero API calls).
"""

import asyncio
import os
from pathlib import Path

from pyagent_patterns.base import Agent
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import CostTracker
from pyagent_trace.events import TraceEventBus
from pyagent_trace.exporters import ConsoleExporter, JsonlExporter
from pyagent_trace.exporters.langfuse import LangfuseExporter
from pyagent_trace.recorder import ReplayLLM

RECORDING = Path(__file__).parent / "recordings" / "pipeline.jsonl"

bus = TraceEventBus()
# Development: print to stdout
bus.subscribe(ConsoleExporter().export_event)
# Persistence: write every event to JSONL (viewable in Studio)
bus.subscribe(JsonlExporter("traces/run_001.jsonl").export_event)
# Production: send to Langfuse for LLM observability
bus.subscribe(
    LangfuseExporter(
        public_key=os.environ.get("LANGFUSE_PUBLIC_KEY", "pk-lf-..."),
        secret_key=os.environ.get("LANGFUSE_SECRET_KEY", "sk-lf-..."),
        host=os.environ.get("LANGFUSE_HOST", "https://cloud.langfuse.com"),  # or self-hosted
    ).export_event
)

tracker = CostTracker(event_bus=bus)
stages = [
    Agent("extractor", ReplayLLM.from_recording(RECORDING, "extractor"), system_prompt="Extract key facts."),
    Agent("writer", ReplayLLM.from_recording(RECORDING, "writer"), system_prompt="Write a concise brief."),
]
for agent in stages:
    agent.set_trace_bus(bus).set_cost_tracker(tracker)
result = asyncio.run(Pipeline(stages=stages).set_trace_bus(bus).run("Tesla Q3 2025 earnings report..."))
print(result.output)
