"""Docs: "CostTracker", as written."""

from pyagent_trace import CostTracker

tracker = CostTracker()
# Record after each agent call
tracker.record(
    pattern="debate",
    agent="bull",
    model="gemini-2.5-flash",
    input_tokens=450,
    output_tokens=380,
    cost_usd=0.00094,
)
tracker.record("debate", "bear", "gemini-2.5-flash", 450, 410, 0.00098)
tracker.record("debate", "judge", "claude-sonnet-4-20250514", 1200, 480, 0.00840)
# Summaries
print(f"Total session cost: ${tracker.total_cost:.4f}")
print(f"By pattern: {tracker.by_pattern()}")
# → {"debate": 0.01032}
print(f"By model: {tracker.by_model()}")
# → {"gemini-2.5-flash": 0.00192, "claude-sonnet-4-20250514": 0.00840}
print(f"By agent: {tracker.by_agent()}")
# → {"bull": 0.00094, "bear": 0.00098, "judge": 0.00840}
# Daily cost projection
print(f"If 500 runs/day: ${tracker.total_cost * 500:.2f}/day")
