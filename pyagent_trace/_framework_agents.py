"""The agent an agent framework is running now, so the calls it makes are costed to it.

openai-agents, pydantic-ai and LangChain know which agent (or named run) a model call
belongs to; the HTTP cassette only sees the request. Each framework is asked through its
public extension point: an openai-agents ``TracingProcessor`` (its default export stays
on), pydantic-ai's current run context and its OpenTelemetry baggage, a LangChain callback
handler registered as a configure hook (as LangSmith's tracer is). ``enable()`` installs
them for the frameworks already imported and never imports one itself: a suite that does
not use a framework pays nothing (the plugin's start-up time is benchmarked).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LANGCHAIN_DEFAULT_NAMES", "enable", "framework_agent_name"]

_RESOLVERS: list[Callable[[], str]] = []
_ENABLED: set[str] = set()
_LOCK = threading.Lock()

LANGCHAIN_DEFAULT_NAMES = ("Runnable", "LangGraph")
"""Run names LangChain gives by itself (``RunnableSequence``, ``RunnableParallel<…>``,
``LangGraph``): not an agent. A ``run_name``, a ``name=`` or a function's name is."""
_LANGCHAIN_DEFAULT_ENDS = ("PromptTemplate", "OutputParser")


def framework_agent_name() -> str:
    """The agent (or named run) the frameworks say is running in this context, else ""."""
    for resolve in _RESOLVERS:
        try:
            name = resolve()
        except Exception:  # a framework's internals changed: attribution is not worth a failure
            continue
        if name:
            return name
    return ""


def enable() -> None:
    """Hook the frameworks already imported (once each). Cheap enough to call per test."""
    modules = sys.modules
    for module, install in (("agents", _openai_agents), ("pydantic_ai", _pydantic_ai), ("langchain_core", _langchain)):
        if module in modules and module not in _ENABLED:
            with _LOCK:
                if module not in _ENABLED:
                    _ENABLED.add(module)
                    resolver = install(modules[module])
                    if resolver is not None:
                        _RESOLVERS.append(resolver)


# -- openai-agents -----------------------------------------------------------------------------
def _openai_agents(module: Any) -> Callable[[], str] | None:
    """A TracingProcessor added beside the SDK's own exporter: it remembers each open span's
    agent name and parent, and the current span (the model call's) leads up to its agent."""
    add = getattr(module, "add_trace_processor", None)
    current = getattr(module, "get_current_span", None)
    base = getattr(module, "TracingProcessor", None)
    if add is None or current is None or base is None:  # another package named "agents"
        return None
    spans: dict[str, tuple[str, str | None]] = {}

    class AgentNames(base):  # type: ignore[misc,valid-type]
        def on_trace_start(self, trace: Any) -> None:
            pass

        def on_trace_end(self, trace: Any) -> None:
            pass

        def on_span_start(self, span: Any) -> None:
            data = span.span_data
            name = getattr(data, "name", "") if getattr(data, "type", "") == "agent" else ""
            spans[span.span_id] = (name if isinstance(name, str) else "", span.parent_id)

        def on_span_end(self, span: Any) -> None:
            spans.pop(span.span_id, None)

        def shutdown(self) -> None:
            pass

        def force_flush(self) -> None:
            pass

    add(AgentNames())

    def agent_name() -> str:
        span = current()
        span_id = getattr(span, "span_id", None)
        while span_id:
            name, span_id = spans.get(span_id, ("", None))
            if name:
                return name
        return ""

    return agent_name


# -- pydantic-ai -------------------------------------------------------------------------------
def _pydantic_ai(module: Any) -> Callable[[], str] | None:
    """The agent of the current run context (set around each model request; instrumented
    runs also put ``gen_ai.agent.name`` in the OpenTelemetry baggage, read for every call)."""
    try:
        from pydantic_ai._run_context import get_current_run_context
    except ImportError:
        return None

    def agent_name() -> str:
        agent = getattr(get_current_run_context(), "agent", None)
        name = getattr(agent, "name", None)
        return name if isinstance(name, str) else ""

    return agent_name


# -- LangChain ---------------------------------------------------------------------------------
_LANGCHAIN_RUN: contextvars.ContextVar[Any] = contextvars.ContextVar("pyagent_trace_langchain_run", default=None)


def _named(name: Any) -> str:
    if not isinstance(name, str) or name.startswith(LANGCHAIN_DEFAULT_NAMES) or name.endswith(_LANGCHAIN_DEFAULT_ENDS):
        return ""
    return name


def _langchain(module: Any) -> Callable[[], str] | None:
    """A callback handler on every callback manager (a configure hook, as LangSmith's
    tracer): it remembers each open run's name and parent; the model run makes itself
    current in its own context (handlers run inline), and leads up to the nearest name."""
    try:
        from langchain_core.callbacks import BaseCallbackHandler
        from langchain_core.tracers.context import register_configure_hook
    except ImportError:
        return None
    runs: dict[Any, tuple[str, Any]] = {}

    class RunNames(BaseCallbackHandler):
        run_inline = True  # in the run's own context, so the model run can make itself current

        def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: Any, parent_run_id: Any = None,
                           **kwargs: Any) -> None:  # fmt: skip
            runs[run_id] = (_named(kwargs.get("name")), parent_run_id)

        def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: Any, parent_run_id: Any = None,
                                **kwargs: Any) -> None:  # fmt: skip
            runs[run_id] = (_named(kwargs.get("name")), parent_run_id)
            _LANGCHAIN_RUN.set(run_id)

        def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: Any, parent_run_id: Any = None,
                         **kwargs: Any) -> None:  # fmt: skip
            runs[run_id] = (_named(kwargs.get("name")), parent_run_id)
            _LANGCHAIN_RUN.set(run_id)

        def _end(self, *args: Any, run_id: Any, **kwargs: Any) -> None:
            runs.pop(run_id, None)

        on_chain_end = on_chain_error = on_llm_end = on_llm_error = _end

    handler = RunNames()
    register_configure_hook(contextvars.ContextVar("pyagent_trace_langchain", default=handler), inheritable=True)

    def agent_name() -> str:
        run_id = _LANGCHAIN_RUN.get()
        while run_id is not None:
            name, run_id = runs.get(run_id, ("", None))
            if name:
                return name
        return ""

    return agent_name
