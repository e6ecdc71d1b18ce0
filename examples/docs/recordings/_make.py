"""Regenerates the recordings the docs examples replay (instead of real provider calls).

The docs name provider classes (AnthropicLLM, OpenAILLM, GeminiLLM) that pyagent-providers
does not ship; the examples replay these recordings with ReplayLLM instead. Responses and
token counts are realistic hand-written values, costs come from the price table.

Run: python examples/docs/recordings/_make.py
"""

from __future__ import annotations

from pathlib import Path

from pyagent_trace.recorder import Recorder

HERE = Path(__file__).parent


def analyst() -> None:
    recorder = Recorder()
    recorder.record_llm_call(
        agent_name="analyst",
        messages=[
            {"role": "system", "content": "Analyse the document."},
            {"role": "user", "content": "Summarise Q3 earnings"},
        ],
        response="Q3 revenue rose 8% to $25.2B; gross margin slipped to 17.1%; guidance unchanged.",
        model="claude-sonnet-4-20250514",
        input_tokens=24,
        output_tokens=31,
        timestamp=1_760_000_000.0,
        duration_ms=1840.0,
    )
    recorder.save(HERE / "analyst.jsonl")


def pipeline() -> None:
    recorder = Recorder()
    recorder.record_llm_call(
        agent_name="extractor",
        messages=[
            {"role": "system", "content": "Extract key facts."},
            {"role": "user", "content": "Tesla Q3 2025 earnings report..."},
        ],
        response="Revenue: $25.2B (+8% YoY); automotive gross margin 17.1%; 497k deliveries.",
        model="claude-haiku-3-5-20241022",
        input_tokens=180,
        output_tokens=42,
        timestamp=1_760_000_001.0,
        duration_ms=910.0,
    )
    recorder.record_llm_call(
        agent_name="writer",
        messages=[
            {"role": "system", "content": "Write a concise brief."},
            {
                "role": "user",
                "content": "Revenue: $25.2B (+8% YoY); automotive gross margin 17.1%; 497k deliveries.",
            },
        ],
        response="Tesla Q3: revenue beat consensus by 2% on record deliveries; margins remain under pressure.",
        model="gpt-4o-mini",
        input_tokens=60,
        output_tokens=85,
        timestamp=1_760_000_002.0,
        duration_ms=1320.0,
    )
    recorder.save(HERE / "pipeline.jsonl")


def debate() -> None:
    recorder = Recorder()
    recorder.start(pattern_name="debate")
    turns = [
        (
            "bull",
            "Data-centre demand is compounding; Nvidia's moat in CUDA keeps margins above 70%.",
            450,
            380,
        ),
        (
            "bear",
            "At $3.2T the price assumes perfect execution; hyperscalers are building their own chips.",
            450,
            410,
        ),
        ("bull", "Custom chips cover inference niches; training still runs on Nvidia for years.", 410, 360),
        ("bear", "Export limits and a capex slowdown would hit a stock priced for no surprises.", 410, 380),
    ]
    for agent, text, tokens_in, tokens_out in turns:
        recorder.record_llm_call(
            agent_name=agent,
            messages=[{"role": "user", "content": f"Argue the {agent} case."}],
            response=text,
            model="gemini-2.5-flash",
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            timestamp=1_760_000_010.0,
            duration_ms=2400.0,
        )
    recorder.record_llm_call(
        agent_name="judge",
        messages=[{"role": "user", "content": "Render a final verdict."}],
        response=("Verdict: HOLD. The bull case on demand is stronger, but the valuation leaves no margin of safety."),
        model="claude-sonnet-4-20250514",
        input_tokens=1200,
        output_tokens=480,
        timestamp=1_760_000_020.0,
        duration_ms=700.0,
    )
    recorder.end(final_output="Verdict: HOLD.")
    recorder.save(HERE / "debate.jsonl")


if __name__ == "__main__":
    analyst()
    pipeline()
    debate()
