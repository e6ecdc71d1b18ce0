"""Datadog: OTLP to a fake Agent intake in-process; ddtrace only in subprocesses.

ddtrace patches the interpreter it is imported in, so everything that imports it runs in
a child process pointed at a fake Agent on 127.0.0.1 (``DD_TRACE_AGENT_URL``).
"""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys
import textwrap

import pytest
from _fake_datadog_agent import FakeDatadogAgent, unpackb
from _otlp_receiver import OtlpHttpReceiver, span_tree
from pyagent_patterns import Agent, MockLLM
from pyagent_patterns.orchestration import Pipeline

from pyagent_trace import attributes as attr
from pyagent_trace.events import TraceEventBus
from pyagent_trace.exporters.datadog import DatadogExporter, _agent_endpoint

# ddtrace would otherwise phone its Agent for remote config and telemetry.
DD_QUIET = {
    "DD_TRACE_API_VERSION": "v0.4",
    "DD_REMOTE_CONFIGURATION_ENABLED": "false",
    "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
    "DD_TRACE_STARTUP_LOGS": "false",
    "DD_CIVISIBILITY_ENABLED": "false",
}


def run_pipeline(bus: TraceEventBus) -> None:
    stages = [
        Agent("extractor", MockLLM(["facts"])).set_trace_bus(bus),
        Agent("writer", MockLLM(["brief"])).set_trace_bus(bus),
    ]
    asyncio.run(Pipeline(stages=stages).set_trace_bus(bus).run("Tesla Q3"))


def test_spans_reach_the_agent_otlp_intake_with_unified_service_tags():
    with OtlpHttpReceiver() as intake:
        exporter = DatadogExporter(intake.url, service="analysis", env="staging", version="1.4.2", raise_errors=True)
        bus = TraceEventBus(raise_errors=True)
        bus.subscribe(exporter.export_event)
        run_pipeline(bus)
        exporter.shutdown()
        spans = intake.wait_for_spans(3)

    assert intake.requests[0].path == "/v1/traces"
    assert span_tree(spans)["invoke_workflow pipeline"] == ["invoke_agent extractor", "invoke_agent writer"]
    resource = spans[0]["resource"]
    assert resource[attr.RESOURCE_SERVICE_NAME] == "analysis"
    assert resource[attr.RESOURCE_DEPLOYMENT_ENVIRONMENT] == "staging"
    assert resource[attr.RESOURCE_DEPLOYMENT_ENVIRONMENT_OLD] == "staging"
    assert resource[attr.RESOURCE_SERVICE_VERSION] == "1.4.2"


@pytest.mark.parametrize(
    ("env", "protocol", "expected"),
    [
        ({}, None, "http://localhost:4318"),
        ({"DD_AGENT_HOST": "dd-agent"}, None, "http://dd-agent:4318"),
        ({"DD_AGENT_HOST": "dd-agent"}, "grpc", "http://dd-agent:4317"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, None, None),  # the exporter reads it
    ],
)
def test_the_agent_endpoint_comes_from_dd_agent_host_unless_otlp_is_configured(monkeypatch, env, protocol, expected):
    for name in (
        "DD_AGENT_HOST",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _agent_endpoint(None, protocol) == expected
    assert _agent_endpoint("http://explicit:4318", protocol) == "http://explicit:4318"


def run_child(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {**os.environ, **DD_QUIET, **env}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_otlp_route_never_imports_ddtrace():
    done = run_child(
        """
        import sys
        from pyagent_trace.exporters.datadog import DatadogExporter
        DatadogExporter("http://127.0.0.1:9").shutdown()
        print("ddtrace imported:", "ddtrace" in sys.modules)
        """
    )
    assert "ddtrace imported: False" in done.stdout


def test_ddtrace_route_sends_the_tree_to_the_agent_native_intake():
    with FakeDatadogAgent() as agent:
        run_child(
            """
            import asyncio
            from pyagent_patterns import Agent, MockLLM
            from pyagent_patterns.orchestration import Pipeline
            from pyagent_trace.events import TraceEventBus
            from pyagent_trace.exporters.datadog import ddtrace_tracer_provider
            from pyagent_trace.exporters.otel import OpenTelemetryBridge

            bus = TraceEventBus(raise_errors=True)
            bus.subscribe(OpenTelemetryBridge(ddtrace_tracer_provider(), raise_errors=True).export_event)
            stages = [Agent("extractor", MockLLM(["facts"])).set_trace_bus(bus),
                      Agent("writer", MockLLM(["brief"])).set_trace_bus(bus)]
            asyncio.run(Pipeline(stages=stages).set_trace_bus(bus).run("Tesla Q3"))
            """,
            DD_TRACE_AGENT_URL=agent.url,
            DD_SERVICE="analysis",
        )
        spans = agent.wait_for_spans(3)

    by_resource = {s["resource"]: s for s in spans}
    root = by_resource["invoke_workflow pipeline"]
    assert root.get("parent_id", 0) == 0, root
    assert root["service"] == "analysis"
    assert root["meta"][attr.PATTERN_TYPE] == "pipeline"
    for name in ("extractor", "writer"):
        span = by_resource[f"invoke_agent {name}"]
        assert span["parent_id"] == root["span_id"]
        assert span["trace_id"] == root["trace_id"]
        assert span["meta"][attr.GEN_AI_AGENT_NAME] == name


def test_the_fake_agent_msgpack_decoder_reads_what_ddtrace_writes():
    assert unpackb(bytes([0x92, 0x01, 0xA2]) + b"hi") == [1, "hi"]
    assert unpackb(bytes([0x81, 0xA1]) + b"k" + bytes([0xD1]) + struct.pack(">h", -200)) == {"k": -200}
    assert unpackb(bytes([0xCB]) + struct.pack(">d", 1.5)) == 1.5
    assert unpackb(bytes([0xCF]) + struct.pack(">Q", 2**63)) == 2**63
