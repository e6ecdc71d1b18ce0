"""OpenTelemetry spans for patterns, agents and LLM calls.

Three ways in, all writing the keys in :mod:`pyagent_trace.attributes`:
``@traced_pattern`` on a pattern class, ``traced_agent(agent)`` on an agent, and
:class:`PatternSpanEmitter` for code the decorators cannot wrap. Spans go to the
``tracer_provider`` you pass, else to the global one; this module never installs one.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from pyagent_trace._agent_decorator import traced_agent
from pyagent_trace._decorators import traced_pattern
from pyagent_trace._span_emitter import PatternSpanEmitter

__all__ = ["PatternSpanEmitter", "traced_agent", "traced_pattern"]
