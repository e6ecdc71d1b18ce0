"""Docs: "Recorder — Record & Replay", as written (writes traces/ in the working directory)."""

from pyagent_trace.recorder import Recorder

# --- Recording ---
recorder = Recorder()
recorder.start(pattern_name="pipeline")
# Record each agent interaction manually, or wire into traced_agent automatically
recorder.record_llm_call(
    agent_name="extractor",
    messages=[{"role": "user", "content": "Tesla Q3 2025 earnings..."}],
    response="Revenue: $25.2B (+8% YoY), gross margin: 17.1%",
    model="claude-haiku-3-5-20241022",
    input_tokens=180,
    output_tokens=42,
    cost_usd=0.00006,
)
recorder.record_llm_call(
    agent_name="writer",
    messages=[{"role": "user", "content": "Revenue: $25.2B..."}],
    response="Tesla Q3: Revenue beat consensus by 2%...",
    model="gpt-4o-mini",
    input_tokens=60,
    output_tokens=85,
    cost_usd=0.00009,
)
recorder.end(final_output="Tesla Q3: Revenue beat consensus by 2%...")
recorder.save("traces/pipeline_run_001.jsonl")
print(f"Recorded {len(recorder.entries)} events")
print(f"Total cost: ${recorder.total_cost:.5f}")
# --- Replay / Debug ---
entries = Recorder.load("traces/pipeline_run_001.jsonl")
for entry in entries:
    print(f"[{entry.event_type}] {entry.agent_name}: {entry.response[:80]}...")
    print(f" tokens: {entry.input_tokens}+{entry.output_tokens}, cost: ${entry.cost_usd:.5f}")
# Replay without hitting LLM APIs (great for CI and testing)
from pyagent_trace.recorder import ReplayLLM  # noqa: E402

replay_llm = ReplayLLM.from_recording("traces/pipeline_run_001.jsonl", agent_name="extractor")
# replay_llm returns pre-recorded responses — zero API cost
