"""Docs: "Agent Hook Integration".

The docs' ``AnthropicLLM("claude-sonnet-4-20250514")`` is not a class pyagent-providers
ships; this example replays a recorded Claude answer with ReplayLLM instead (zero API calls).

One deviation: the docs call ``agent.run("Summarise Q3 earnings")`` with a bare string.
pyagent-patterns 0.3.0's ``Agent.run`` takes a list of Messages and iterates the string's
characters, so its cost hook fails silently and no cost_record is emitted; the example passes
``[Message.user(...)]``.
"""

import asyncio
from pathlib import Path

from pyagent_patterns.base import Agent, Message

from pyagent_trace import CostTracker
from pyagent_trace.events import TraceEventBus
from pyagent_trace.exporters import ConsoleExporter
from pyagent_trace.recorder import ReplayLLM

RECORDING = Path(__file__).parent / "recordings" / "analyst.jsonl"
AnthropicLLM = ReplayLLM.from_recording(RECORDING, agent_name="analyst")  # stands in for the docs' class

bus = TraceEventBus()
bus.subscribe(ConsoleExporter().export_event)
tracker = CostTracker(event_bus=bus)
agent = (
    Agent("analyst", AnthropicLLM, system_prompt="Analyse the document.")
    .set_trace_bus(bus)  # emits agent_start / agent_end
    .set_cost_tracker(tracker)  # emits cost_record after each LLM call
)
result = asyncio.run(agent.run([Message.user("Summarise Q3 earnings")]))
print(result.content)
