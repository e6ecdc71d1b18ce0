"""Docs: "OTel Backend Setup: Grafana Tempo" (the OTLP/gRPC snippet).

Tempo takes OTLP/gRPC on port 4317. The docs add the exporter to the Jaeger example's
global ``provider``; here the provider stays private and a TraceEventBus feeds it through
``OpenTelemetryBridge`` (no ``trace.set_tracer_provider``: nothing else in the process is
affected). The endpoint comes from ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default
``http://tempo:4317``; ``http://`` means no TLS). The LLMs replay a shipped recording.
Prometheus, in the docs' title, scrapes metrics; pyagent-trace exports traces only.
"""

import asyncio
import os
from pathlib import Path

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pyagent_patterns.base import Agent
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import CostTracker
from pyagent_trace.events import TraceEventBus
from pyagent_trace.exporters.otel import OpenTelemetryBridge
from pyagent_trace.recorder import ReplayLLM

RECORDING = Path(__file__).parent / "recordings" / "pipeline.jsonl"
endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://tempo:4317")

provider = TracerProvider(resource=Resource.create({"service.name": "earnings-brief"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))

bus = TraceEventBus()
bus.subscribe(OpenTelemetryBridge(provider).export_event)
tracker = CostTracker(event_bus=bus)  # cost_record events: tokens and USD on each agent span

stages = [
    Agent("extractor", ReplayLLM.from_recording(RECORDING, "extractor"), system_prompt="Extract key facts."),
    Agent("writer", ReplayLLM.from_recording(RECORDING, "writer"), system_prompt="Write a concise brief."),
]
for agent in stages:
    agent.set_trace_bus(bus).set_cost_tracker(tracker)
pipeline = Pipeline(stages=stages).set_trace_bus(bus)

result = asyncio.run(pipeline.run("Tesla Q3 2025 earnings report..."))
print(result.output)
provider.shutdown()  # send the last batch now rather than at interpreter exit
print(f"Spans sent to Tempo at {endpoint}; run cost ${tracker.total_cost:.6f}")
