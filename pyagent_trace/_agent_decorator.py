"""``traced_agent``: an ``invoke_agent`` span around every ``agent.run(messages)``.

This is the hot path (one call per LLM call), so everything that does not change between
calls (names, model, provider, price, system-prompt tokens, the tracer) is worked out once
when the agent is wrapped, and each call pays for one span, one context switch and one
``set_attributes``. See bench/bench_traced_agent.py for the measured overhead.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import inspect
import logging
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from opentelemetry.context import attach, detach
from opentelemetry.trace import set_span_in_context

from pyagent_trace import attributes as attr
from pyagent_trace._decorators import TRACED_MARK
from pyagent_trace._span_scope import (
    AGENT_NAME,
    SCOPE,
    add_cost,
    get_tracer,
    infer_provider,
    parent_context,
    record_error,
)
from pyagent_trace._tokens import count_tokens
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.pricing import DEFAULT_PRICES

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from opentelemetry.trace import Span, Tracer, TracerProvider
    from opentelemetry.util.types import AttributeValue

    from pyagent_trace._span_scope import Scope
    from pyagent_trace.pricing import ModelPrice, PriceTable

__all__ = ["traced_agent"]

logger = logging.getLogger(__name__)

A = TypeVar("A")
P = ParamSpec("P")
R = TypeVar("R")

_MODEL_ATTRIBUTES = ("_model", "model", "model_name", "_default_model", "default_model")
_IN, _OUT = attr.COST_INPUT_TOKENS, attr.COST_OUTPUT_TOKENS
_GEN_IN, _GEN_OUT = attr.GEN_AI_USAGE_INPUT_TOKENS, attr.GEN_AI_USAGE_OUTPUT_TOKENS
_USD, _DURATION, _SAVINGS = attr.COST_TOTAL_USD, attr.EXEC_DURATION_MS, attr.COMPRESS_SAVINGS_PCT


def traced_agent(agent: A, *, tracer_provider: TracerProvider | None = None, prices: PriceTable | None = None) -> A:
    """Trace ``agent.run`` and return the same agent (tracing twice is a no-op).

    Works on pyagent-patterns ``Agent`` and on any object with an async or sync
    ``run(messages)``: the wrapper is stored on the instance, shadowing the method.
    Tokens are estimated from the messages' ``content`` plus ``system_prompt`` and from
    the reply; the model (``agent.llm._model`` / ``.model`` / ``.model_name``) and price
    are read once, here. A ``copy.copy`` of a traced agent still calls the original's run.
    """
    run = getattr(agent, "run", None)
    if not callable(run):
        msg = f"traced_agent needs an object with a run(messages) method; got {agent!r}."
        raise ConfigError(msg)
    if getattr(run, TRACED_MARK, False):
        return agent
    plan = _AgentPlan(agent, DEFAULT_PRICES if prices is None else prices)
    tracer = get_tracer(tracer_provider)
    is_async = inspect.iscoroutinefunction(run) or inspect.iscoroutinefunction(
        getattr(run, "__call__", None)  # noqa: B004 -- an object with an async __call__
    )
    wrapper = _async_run(run, tracer, plan) if is_async else _sync_run(run, tracer, plan)
    setattr(wrapper, TRACED_MARK, True)
    try:
        object.__setattr__(agent, "run", wrapper)  # also works on frozen dataclasses
    except (AttributeError, TypeError) as err:
        msg = (
            f"traced_agent cannot replace run on {type(agent).__qualname__} (it has __slots__ "
            "without a __dict__). Wrap it in a small class with a run method, then trace that."
        )
        raise ConfigError(msg) from err
    return agent


class _AgentPlan:
    """What is the same for every call of one agent."""

    __slots__ = ("agent", "name", "price", "prompt", "prompt_tokens", "span_name", "static", "warned")

    def __init__(self, agent: object, prices: PriceTable) -> None:
        name = getattr(agent, "name", None)
        name = name if isinstance(name, str) and name else type(agent).__name__
        model = _model_of(agent)
        static: dict[str, AttributeValue] = {
            attr.AGENT_NAME: name,
            attr.GEN_AI_OPERATION_NAME: attr.OPERATION_INVOKE_AGENT,
            attr.GEN_AI_AGENT_NAME: name,
            attr.COST_ESTIMATED: True,
        }
        self.price: ModelPrice | None = None
        if model:
            static[attr.AGENT_MODEL] = static[attr.GEN_AI_REQUEST_MODEL] = model
            provider = infer_provider(model)
            if provider:
                static[attr.GEN_AI_PROVIDER_NAME] = provider
            self.price = prices.lookup(model)
        if self.price is None:
            static[attr.COST_UNPRICED] = True
        self.agent = agent
        self.name = name
        self.static = static
        self.span_name = attr.agent_span_name(name)
        self.prompt = ""
        self.prompt_tokens = 0
        self.warned = False

    def system_prompt_tokens(self) -> int:
        prompt = getattr(self.agent, "system_prompt", "")
        if prompt is not self.prompt:  # counted again only when the prompt is replaced
            self.prompt_tokens = count_tokens(prompt) if isinstance(prompt, str) else 0
            self.prompt = prompt
        return self.prompt_tokens

    def finish(self, span: Span, started: int, args: tuple[Any, ...], reply: object, scope: Scope | None) -> None:
        """One ``set_attributes`` with everything, then end the span."""
        duration = (perf_counter_ns() - started) / 1e6
        try:
            in_tokens = self.system_prompt_tokens() + _input_tokens(args[0] if args else ())
            content = getattr(reply, "content", reply)
            out_tokens = count_tokens(content) if isinstance(content, str) else 0
            metadata = getattr(reply, "metadata", None)
        except Exception:  # an odd message or reply must not fail a call that succeeded
            self._warn_once()
            in_tokens = out_tokens = 0
            metadata = None
        attrs = {**self.static, _IN: in_tokens, _OUT: out_tokens, _GEN_IN: in_tokens}
        attrs[_GEN_OUT] = out_tokens
        attrs[_DURATION] = duration
        usd = None
        price = self.price
        if price is not None:
            attrs[_USD] = usd = (in_tokens * price.input + out_tokens * price.output) / 1e6
        if isinstance(metadata, dict) and _SAVINGS_KEY in metadata:
            attrs[_SAVINGS] = metadata[_SAVINGS_KEY]
        if scope is not None:
            add_cost(scope, in_tokens, out_tokens, usd)
        span.set_attributes(attrs)
        span.end()

    def _warn_once(self) -> None:
        if not self.warned:
            self.warned = True
            logger.warning("Could not count tokens for agent %r; recording 0.", self.span_name, exc_info=True)

    def fail(self, span: Span, started: int, exc: BaseException) -> None:
        if isinstance(exc, Exception):
            record_error(span, exc)
        span.set_attributes({**self.static, _DURATION: (perf_counter_ns() - started) / 1e6})
        span.end()


_SAVINGS_KEY = "savings_pct"


def _async_run(run: Callable[P, Awaitable[R]], tracer: Tracer, plan: _AgentPlan) -> Callable[P, Coroutine[Any, Any, R]]:
    start_span, name, finish, fail = tracer.start_span, plan.span_name, plan.finish, plan.fail
    agent_name = plan.name

    @functools.wraps(run)
    async def traced_run(*args: P.args, **kwargs: P.kwargs) -> R:
        scope = SCOPE.get()
        span = start_span(name, None if scope is None else parent_context(scope))
        token = attach(set_span_in_context(span))
        agent_token = AGENT_NAME.set(agent_name)
        started = perf_counter_ns()
        try:
            reply = await run(*args, **kwargs)
        except BaseException as exc:
            AGENT_NAME.reset(agent_token)
            detach(token)
            fail(span, started, exc)
            raise
        AGENT_NAME.reset(agent_token)
        detach(token)
        finish(span, started, args or (kwargs.get("messages", ()),), reply, scope)
        return reply

    return traced_run


def _sync_run(run: Callable[P, R], tracer: Tracer, plan: _AgentPlan) -> Callable[P, R]:
    start_span, name, finish, fail = tracer.start_span, plan.span_name, plan.finish, plan.fail
    agent_name = plan.name

    @functools.wraps(run)
    def traced_run(*args: P.args, **kwargs: P.kwargs) -> R:
        scope = SCOPE.get()
        span = start_span(name, None if scope is None else parent_context(scope))
        token = attach(set_span_in_context(span))
        agent_token = AGENT_NAME.set(agent_name)
        started = perf_counter_ns()
        try:
            reply = run(*args, **kwargs)
        except BaseException as exc:
            AGENT_NAME.reset(agent_token)
            detach(token)
            fail(span, started, exc)
            raise
        AGENT_NAME.reset(agent_token)
        detach(token)
        finish(span, started, args or (kwargs.get("messages", ()),), reply, scope)
        return reply

    return traced_run


def _model_of(agent: object) -> str | None:
    for owner in (getattr(agent, "llm", None), agent):
        if owner is None:
            continue
        for name in _MODEL_ATTRIBUTES:
            try:
                value = getattr(owner, name, None)
            except Exception:  # a property that fails is not a model name
                continue
            if isinstance(value, str) and value:
                return value
    return None


def _input_tokens(messages: Any) -> int:
    """Tokens of ``Message`` objects, ``{"content": ...}`` dicts or plain strings; else 0."""
    if isinstance(messages, str):
        return count_tokens(messages)
    if not isinstance(messages, list | tuple):
        return 0
    total = 0
    for message in messages:
        content = getattr(message, "content", message)
        if isinstance(content, str):
            total += count_tokens(content)
        elif isinstance(content, dict):  # {"role": ..., "content": ...}
            text = content.get("content")
            total += count_tokens(text) if isinstance(text, str) else 0
    return total
