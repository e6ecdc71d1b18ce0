"""Docs: "TraceEventBus — Pub/Sub Event System", as written."""

import time

from pyagent_trace.events import TraceEvent, TraceEventBus

bus = TraceEventBus()
# Subscribe a callback — receives every event
sub_id = bus.subscribe(lambda e: print(f"[{e.event_type}] {e.agent_name}"))
# Subscribe to specific event types only
bus.subscribe_filter(
    {"agent_start", "agent_end", "llm_call"},
    lambda e: print(f"Agent event: {e.payload}"),
)
# Emit an event
bus.emit(
    TraceEvent(
        timestamp=time.time(),
        event_type="agent_start",
        agent_name="analyst",
        pattern_type="pipeline",
        payload={"model": "claude-sonnet-4-20250514"},
    )
)
bus.unsubscribe(sub_id)
