"""The docs' "Integration with pyagent-studio" snippet: TraceService over a recording.

Run it from anywhere: python examples/docs/trace_service.py
The recording next to it is the docs' Recorder example (pipeline: extractor, then writer).
"""

from pathlib import Path

# The docs import TraceService from pyagent_studio.services.trace_service (pyagent-studio,
# a separate package); pyagent-trace ships the same API as pyagent_trace.trace_service.
from pyagent_trace.trace_service import TraceService

RECORDING = Path(__file__).parent / "recordings" / "pipeline_run_001.jsonl"

svc = TraceService()
spans = svc.load(RECORDING)
print(f"Spans: {len(spans)}")
for span in spans:
    print(f"  [{span.event_type}] {span.agent_name}: {span.duration_ms:.0f}ms, {span.tokens} tokens")

# Query specific spans
llm_calls = svc.query(event_type="llm_call")
slow_spans = svc.query(min_duration_ms=2000)
print(f"LLM calls: {[s.agent_name for s in llm_calls]}")
print(f"Slow spans (>= 2 s): {[(s.event_type, s.agent_name) for s in slow_spans]}")

summary = svc.summary()
print(f"Total: {summary.total.calls} calls, {summary.total.tokens} tokens, ${summary.total.cost_usd:.5f}")
