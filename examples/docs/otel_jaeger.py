"""Docs: "OTel Backend Setup: Jaeger (local development)".

The docs use ``opentelemetry.exporter.jaeger.thrift.JaegerExporter`` (UDP port 6831). That
exporter is discontinued: OpenTelemetry deprecated its Jaeger exporters in 2023 because
Jaeger ingests OTLP natively (stable since Jaeger 1.35). So this example sends OTLP/HTTP to
Jaeger's OTLP port 4318 instead. Start Jaeger with:

    docker run -d --name jaeger -p 4317:4317 -p 4318:4318 -p 16686:16686 jaegertracing/all-in-one:latest

The endpoint comes from ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default ``http://localhost:4318``).
The docs' ``AnthropicLLM`` / ``OpenAILLM`` are replaced by ReplayLLM over a shipped
recording (zero API calls). Spans leave in a background thread; the OpenTelemetry SDK sends
the last batch when the interpreter exits.
"""

import asyncio
import os
from pathlib import Path

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pyagent_patterns.base import Agent
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import traced_agent, traced_pattern
from pyagent_trace.recorder import ReplayLLM

RECORDING = Path(__file__).parent / "recordings" / "pipeline.jsonl"
endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")

provider = TracerProvider()
provider.add_span_processor(
    BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"))  # Jaeger's OTLP/HTTP port
)
trace.set_tracer_provider(provider)
# Now all traced_pattern / traced_agent calls export to Jaeger
# Visit http://localhost:16686 to explore traces


@traced_pattern
class TracedPipeline(Pipeline):
    pass


pipeline = TracedPipeline(
    stages=[
        traced_agent(
            Agent("extractor", ReplayLLM.from_recording(RECORDING, "extractor"), system_prompt="Extract key facts.")
        ),
        traced_agent(
            Agent("writer", ReplayLLM.from_recording(RECORDING, "writer"), system_prompt="Write a concise brief.")
        ),
    ]
)
result = asyncio.run(pipeline.run("Tesla Q3 2025 earnings report..."))
print(result.output)
print(f"Spans sent to {endpoint} (Jaeger UI: http://localhost:16686)")
