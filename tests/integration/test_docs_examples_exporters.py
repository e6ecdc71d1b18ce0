"""The docs' exporter snippets (examples/docs/) run as scripts against fake backends on 127.0.0.1.

Each runs in a subprocess from a temporary directory (so "from any cwd" holds) with the
backend's address in the environment, as a user would point it at Jaeger or Langfuse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
from _otlp_receiver import OtlpGrpcReceiver, OtlpHttpReceiver, span_tree

from pyagent_trace import attributes as attr

DOCS = Path(__file__).parent.parent.parent / "examples" / "docs"
BRIEF = "Tesla Q3: revenue beat consensus by 2% on record deliveries; margins remain under pressure."
PIPELINE_TREE = {
    "": ["invoke_workflow pipeline"],
    "invoke_workflow pipeline": ["invoke_agent extractor", "invoke_agent writer"],
}


def run_example(name: str, cwd: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGFUSE_"))}
    done = subprocess.run(
        [sys.executable, str(DOCS / name)],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def langfuse_env(rx: OtlpHttpReceiver) -> dict[str, str]:
    return {"LANGFUSE_HOST": rx.url, "LANGFUSE_PUBLIC_KEY": "pk-lf-docs", "LANGFUSE_SECRET_KEY": "sk-lf-docs"}


def test_jaeger_example_sends_the_decorated_pipeline_over_otlp_http(tmp_path):
    with OtlpHttpReceiver() as jaeger:
        out = run_example("otel_jaeger.py", tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=jaeger.url)
        spans = jaeger.wait_for_spans(3)
    assert out.splitlines() == [BRIEF, f"Spans sent to {jaeger.url} (Jaeger UI: http://localhost:16686)"]
    assert jaeger.requests[0].path == "/v1/traces"
    assert span_tree(spans) == PIPELINE_TREE
    writer = next(s for s in spans if s["name"] == "invoke_agent writer")
    assert writer["attributes"][attr.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


def test_tempo_example_sends_bus_events_over_otlp_grpc_with_costs(tmp_path):
    with OtlpGrpcReceiver() as tempo:
        out = run_example("otel_tempo.py", tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=tempo.url)
        spans = tempo.wait_for_spans(3)
    assert out.splitlines()[0] == BRIEF
    assert out.splitlines()[1].startswith(f"Spans sent to Tempo at {tempo.url}; run cost $0.000")
    assert span_tree(spans) == PIPELINE_TREE
    root = next(s for s in spans if s["name"] == "invoke_workflow pipeline")
    assert root["resource"]["service.name"] == "earnings-brief"
    assert root["attributes"][attr.COST_TOTAL_USD] > 0


def test_langfuse_example_sends_a_trace_with_priced_generations(tmp_path):
    with OtlpHttpReceiver() as langfuse:
        out = run_example("langfuse_exporter.py", tmp_path, **langfuse_env(langfuse))
        spans = langfuse.wait_for_spans(5)
    assert out.splitlines()[0] == BRIEF
    assert out.splitlines()[1].startswith("Trace sent to Langfuse; 2 generations, $0.000")
    assert {r.path for r in langfuse.requests} == {"/api/public/otel/v1/traces"}
    assert span_tree(spans) == {
        **PIPELINE_TREE,
        "invoke_agent extractor": ["chat claude-haiku-3-5-20241022"],
        "invoke_agent writer": ["chat gpt-4o-mini"],
    }
    generation = next(s["attributes"] for s in spans if s["name"] == "chat gpt-4o-mini")
    assert generation["langfuse.observation.type"] == "generation"
    assert json.loads(generation["langfuse.observation.usage_details"])["input"] > 0
    assert json.loads(generation["langfuse.observation.cost_details"])["total"] > 0


def test_exporters_wiring_example_prints_writes_and_sends_the_same_run(tmp_path):
    with OtlpHttpReceiver() as langfuse:
        out = run_example("exporters_wiring.py", tmp_path, **langfuse_env(langfuse))
        spans = langfuse.wait_for_spans(5)
    lines = out.splitlines()
    assert lines[0] == "[pattern_start] pattern=pipeline"
    assert lines[1] == "[agent_start] agent=extractor"
    assert lines[2].startswith("[cost_record] agent=extractor tokens=")
    assert lines[-1] == BRIEF
    events = [orjson.loads(line) for line in (tmp_path / "traces" / "run_001.jsonl").read_bytes().splitlines()]
    assert [e["event_type"] for e in events] == [line[1 : line.index("]")] for line in lines[:-1]]
    assert span_tree(spans)["invoke_workflow pipeline"] == ["invoke_agent extractor", "invoke_agent writer"]
