"""Where a pyagent span belongs, and where its tokens and dollars are added up.

One ContextVar holds a chain of open *scopes*. A decorator or ``with`` block opens a
scope whose span is also the current span and closes it on exit. A manual span from
``PatternSpanEmitter.pattern_span`` is *not* made current (the docs end it in a
``finally``, so there is no exit to hook), so its scope says which span to use as parent
and is skipped once that span has ended. Asyncio tasks copy the context, so
``asyncio.gather`` of patterns or agents keeps every tree separate.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, get_current_span, set_span_in_context

from pyagent_trace import __version__
from pyagent_trace import attributes as attr

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer, TracerProvider
    from opentelemetry.util.types import AttributeValue

__all__ = [
    "SCOPE",
    "Scope",
    "Totals",
    "active_scope",
    "add_cost",
    "first_open",
    "get_tracer",
    "infer_provider",
    "parent_context",
    "record_error",
]

_VERSION = __version__  # not importlib.metadata: its scan of site-packages cost ~5 ms a session

_USD_DECIMALS = 12  # float sums print cleanly: 0.00094 + 0.00098 -> 0.00192


class Totals:
    """Tokens and USD of the traced agents under one pattern; thread-safe ``add``."""

    __slots__ = ("_lock", "agents", "input_tokens", "output_tokens", "unpriced", "usd")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.agents = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.unpriced = 0
        self.usd = 0.0

    def add(self, input_tokens: int, output_tokens: int, usd: float | None) -> None:
        with self._lock:
            self.agents += 1
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
            if usd is None:
                self.unpriced += 1
            else:
                self.usd += usd

    def attributes(self) -> dict[str, AttributeValue]:
        """Cost attributes for the pattern span; none when no traced agent ran under it.

        One unpriced agent makes the USD total unknown, so it is then left out.
        """
        if not self.agents:
            return {}
        out: dict[str, AttributeValue] = {
            attr.COST_INPUT_TOKENS: self.input_tokens,
            attr.COST_OUTPUT_TOKENS: self.output_tokens,
            attr.COST_ESTIMATED: True,
        }
        if self.unpriced:
            out[attr.COST_UNPRICED] = True
        else:
            out[attr.COST_TOTAL_USD] = round(self.usd, _USD_DECIMALS)
        return out


class Scope:
    """One open pattern (``totals`` set) or manual agent span (``totals`` None)."""

    __slots__ = ("manual", "outer", "owner", "parent", "span", "started", "totals")

    def __init__(
        self,
        span: Span,
        parent: Scope | None,
        *,
        totals: Totals | None,
        manual: bool = False,
        owner: object = None,
    ) -> None:
        self.span = span
        self.parent = parent
        self.totals = totals
        self.manual = manual
        self.owner = owner
        self.started = time.perf_counter_ns()
        # The span that was current when a manual span opened: while it is still the
        # current one, nothing newer is open and the manual span is the better parent.
        self.outer = get_current_span() if manual else None


SCOPE: ContextVar[Scope | None] = ContextVar("pyagent_trace_scope", default=None)

AGENT_NAME: ContextVar[str] = ContextVar("pyagent_trace_agent", default="")
"""The name of the ``traced_agent`` running now: SDK calls made inside it are costed to it
even when the SDK makes a span of its own current (anthropic 2.x does)."""


def first_open(scope: Scope | None) -> Scope | None:
    """``scope`` or its nearest ancestor whose span has not ended yet."""
    while scope is not None and not scope.span.is_recording():
        scope = scope.parent
    return scope


def active_scope() -> Scope | None:
    """The innermost scope whose span is still open (ended manual spans are skipped)."""
    return first_open(SCOPE.get())


def parent_context(scope: Scope | None) -> Context | None:
    """Context to start a child span in; None means "the current one" (the common case)."""
    scope = first_open(scope)
    if scope is None or not scope.manual:
        return None
    current = get_current_span()
    if current is scope.outer or not current.is_recording():
        return set_span_in_context(scope.span)
    return None


def add_cost(scope: Scope | None, input_tokens: int, output_tokens: int, usd: float | None) -> None:
    """Count one agent call in every open pattern around it (nested patterns included)."""
    while scope is not None:
        totals = scope.totals
        if totals is not None and scope.span.is_recording():
            totals.add(input_tokens, output_tokens, usd)
        scope = scope.parent


def get_tracer(provider: TracerProvider | None) -> Tracer:
    """Our tracer from ``provider``, else from the global provider.

    Without a global provider yet this is a ProxyTracer that switches to the real one
    when the application installs it, so decorating at import time is fine.
    """
    if provider is None:
        return trace.get_tracer(attr.INSTRUMENTATION_NAME, _VERSION)
    return provider.get_tracer(attr.INSTRUMENTATION_NAME, _VERSION)


def record_error(span: Span, exc: BaseException) -> None:
    """Status ERROR with the message, an exception event, and ``error.type``."""
    if not span.is_recording():
        return
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    span.set_attribute(attr.ERROR_TYPE, type(exc).__qualname__)


_PROVIDER_PREFIXES = (
    (("gpt", "o1", "o3", "o4", "chatgpt"), attr.PROVIDER_OPENAI),
    (("claude",), attr.PROVIDER_ANTHROPIC),
    (("gemini",), attr.PROVIDER_GCP_GEMINI),
)


def infer_provider(model: str) -> str | None:
    """``gen_ai.provider.name`` guessed from a model name; None when it is not obvious."""
    name = model.rsplit("/", 1)[-1].lower()
    for prefixes, provider in _PROVIDER_PREFIXES:
        if name.startswith(prefixes):
            return provider
    return None
