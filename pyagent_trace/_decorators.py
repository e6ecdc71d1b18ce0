"""``@traced_pattern``: one span per pattern run, with the result and cost folded in.

The class decorator replaces ``run`` (async or sync) and, when present, the async
generator ``stream`` with wrappers that keep their signatures. The span is current while
the pattern runs, so agent spans nest under it, and it opens a cost scope that traced
agents add their tokens and dollars to.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry.trace import set_span_in_context

from pyagent_trace import attributes as attr
from pyagent_trace._span_scope import (
    SCOPE,
    Scope,
    Totals,
    active_scope,
    get_tracer,
    parent_context,
    record_error,
)
from pyagent_trace.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.trace import Tracer, TracerProvider
    from opentelemetry.util.types import AttributeValue

    _Tokens = tuple[Token[Context], Token[Scope | None]]

__all__ = ["TRACED_MARK", "traced_pattern"]

P = ParamSpec("P")
R = TypeVar("R")
Y = TypeVar("Y")
C = TypeVar("C", bound=type)

TRACED_MARK = "__pyagent_traced__"
"""Set on every wrapper so that tracing twice (or a traced subclass) adds no second span."""

_EARLY_STOP_KEYS = ("early_stop", "stopped_early", "converged")


@overload
def traced_pattern(cls: C, /) -> C: ...
@overload
def traced_pattern(*, tracer_provider: TracerProvider | None = None) -> Callable[[C], C]: ...
def traced_pattern(cls: C | None = None, /, *, tracer_provider: TracerProvider | None = None) -> C | Callable[[C], C]:
    """Trace every ``run`` (and ``stream``) of a pattern class; bare or with arguments.

    ``@traced_pattern class TracedPipeline(Pipeline): pass`` traces the subclass only.
    The span is ``pattern {pattern_type}``; ``pattern_type`` is the instance's
    ``pattern_type`` or else the lower-cased class name.
    """

    def decorate(klass: C) -> C:
        tracer = get_tracer(tracer_provider)
        run = getattr(klass, "run", None)
        if not callable(run):
            msg = (
                f"@traced_pattern needs a class with a run(task, context=None) method; "
                f"{klass.__qualname__!r} has run={run!r}. Decorate the pattern class itself."
            )
            raise ConfigError(msg)
        if not getattr(run, TRACED_MARK, False):
            wrap = _wrap_async_run if inspect.iscoroutinefunction(run) else _wrap_sync_run
            _mark(klass, "run", wrap(run, tracer))
        stream = getattr(klass, "stream", None)
        if inspect.isasyncgenfunction(stream) and not getattr(stream, TRACED_MARK, False):
            _mark(klass, "stream", _wrap_stream(stream, tracer))
        return klass

    return decorate if cls is None else decorate(cls)


def _mark(klass: type, name: str, wrapper: Callable[..., Any]) -> None:
    setattr(wrapper, TRACED_MARK, True)
    setattr(klass, name, wrapper)


class _PatternRun:
    """One open pattern span: its scope, start time and the tokens that made it current."""

    __slots__ = ("_context", "scope", "span")

    def __init__(self, tracer: Tracer, pattern: object) -> None:
        pattern_type = _pattern_type(pattern)
        outer = active_scope()
        self.span = tracer.start_span(
            attr.pattern_span_name(pattern_type),
            parent_context(outer),
            attributes=attr.pattern_attributes(pattern_type),
        )
        self.scope = Scope(self.span, outer, totals=Totals(), owner=pattern)
        self._context = set_span_in_context(self.span)

    def enter(self) -> _Tokens:
        return otel_context.attach(self._context), SCOPE.set(self.scope)

    def exit(self, tokens: _Tokens) -> None:
        SCOPE.reset(tokens[1])
        otel_context.detach(tokens[0])

    def end(self, attributes: dict[str, AttributeValue]) -> None:
        attributes[attr.EXEC_DURATION_MS] = (time.perf_counter_ns() - self.scope.started) / 1e6
        totals = self.scope.totals
        if totals is not None:
            attributes.update(totals.attributes())
        self.span.set_attributes(attributes)
        self.span.end()

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, Exception):  # not CancelledError / KeyboardInterrupt
            record_error(self.span, exc)
        self.end({})


def _inside_own_stream(pattern: object) -> bool:
    """True inside this pattern's own span (``stream`` calling ``run``, or ``run`` recursing).

    The outer span already covers that work, so no second span is opened for it.
    """
    scope = SCOPE.get()
    return scope is not None and scope.owner is pattern and scope.span.is_recording()


def _wrap_async_run(run: Callable[P, Awaitable[R]], tracer: Tracer) -> Callable[P, Coroutine[Any, Any, R]]:
    @functools.wraps(run)
    async def traced_run(*args: P.args, **kwargs: P.kwargs) -> R:
        if not args or _inside_own_stream(args[0]):
            return await run(*args, **kwargs)
        pattern_run = _PatternRun(tracer, args[0])
        tokens = pattern_run.enter()
        try:
            result = await run(*args, **kwargs)
        except BaseException as exc:
            pattern_run.exit(tokens)
            pattern_run.fail(exc)
            raise
        pattern_run.exit(tokens)
        pattern_run.end(_result_attributes(result))
        return result

    return traced_run


def _wrap_sync_run(run: Callable[P, R], tracer: Tracer) -> Callable[P, R]:
    @functools.wraps(run)
    def traced_run(*args: P.args, **kwargs: P.kwargs) -> R:
        if not args or _inside_own_stream(args[0]):
            return run(*args, **kwargs)
        pattern_run = _PatternRun(tracer, args[0])
        tokens = pattern_run.enter()
        try:
            result = run(*args, **kwargs)
        except BaseException as exc:
            pattern_run.exit(tokens)
            pattern_run.fail(exc)
            raise
        pattern_run.exit(tokens)
        pattern_run.end(_result_attributes(result))
        return result

    return traced_run


def _wrap_stream(stream: Callable[P, AsyncIterator[Y]], tracer: Tracer) -> Callable[P, AsyncIterator[Y]]:
    """The span covers the whole stream; it is current only while the pattern computes.

    Between items the consumer's own code runs with its own context, so the span is made
    current around each step instead of across ``yield`` (which would leak it).
    """

    @functools.wraps(stream)
    async def traced_stream(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[Y]:
        pattern_run = _PatternRun(tracer, args[0] if args else None)
        inner = aiter(stream(*args, **kwargs))
        output_len = 0
        try:
            while True:
                tokens = pattern_run.enter()
                try:
                    item = await anext(inner)
                except StopAsyncIteration:
                    break
                finally:
                    pattern_run.exit(tokens)
                if isinstance(item, str):
                    output_len += len(item)
                yield item
        except BaseException as exc:
            aclose = getattr(inner, "aclose", None)
            if aclose is not None:
                await aclose()
            if isinstance(exc, GeneratorExit):  # the consumer stopped early: not an error
                pattern_run.end({attr.PATTERN_OUTPUT_LEN: output_len})
            else:
                pattern_run.fail(exc)
            raise
        pattern_run.end({attr.PATTERN_OUTPUT_LEN: output_len})

    return traced_stream


def _pattern_type(pattern: object) -> str:
    try:
        value = getattr(pattern, "pattern_type", None)
    except Exception:  # an abstract or failing property must not break the run
        value = None
    if isinstance(value, str) and value:
        return value
    return type(pattern).__name__.lower()


def _result_attributes(result: object) -> dict[str, AttributeValue]:
    """Documented pattern attributes read from a pyagent-patterns ``Result`` (or lookalike)."""
    attrs: dict[str, AttributeValue] = {}
    output = result if isinstance(result, str) else getattr(result, "output", None)
    if isinstance(output, str):
        attrs[attr.PATTERN_OUTPUT_LEN] = len(output)
    metadata = getattr(result, "metadata", None)
    if not isinstance(metadata, Mapping):
        metadata = {}
    rounds = metadata.get("rounds")
    if isinstance(rounds, int) and not isinstance(rounds, bool):
        attrs[attr.PATTERN_ROUNDS] = rounds
    stops = (metadata.get(key) for key in _EARLY_STOP_KEYS)
    attrs[attr.EARLY_STOP] = next((stop for stop in stops if isinstance(stop, bool)), False)
    difficulty = metadata.get("difficulty")
    if isinstance(difficulty, int | float) and not isinstance(difficulty, bool):
        attrs[attr.ROUTER_DIFFICULTY] = difficulty
    selected = metadata.get("selected_model")
    if isinstance(selected, str):
        attrs[attr.ROUTER_SELECTED_MODEL] = selected
    return attrs
