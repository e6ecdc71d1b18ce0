"""TraceEventBus: the pub/sub contract between trace producers and consumers.

Producers (agents, patterns, providers) emit :class:`TraceEvent` objects; consumers
(exporters, cost trackers, test fixtures) subscribe plain callables. A consumer that
fails never reaches the producer: telemetry must not break the traced program.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Subscriber", "TraceEvent", "TraceEventBus"]

logger = logging.getLogger(__name__)

Subscriber = Callable[["TraceEvent"], Any]
"""A consumer: called with each event. May return an awaitable (see ``emit_async``)."""


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One thing that happened in an agent run.

    ``agent_name`` and ``pattern_type`` default to "" because pyagent-patterns emits
    agent events without a pattern and pattern events without an agent.
    """

    timestamp: float
    event_type: str
    agent_name: str = ""
    pattern_type: str = ""
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, as written by the JSONL exporter."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Subscription:
    sub_id: int
    callback: Subscriber
    event_types: frozenset[str] | None


class TraceEventBus:
    """Thread-safe publish/subscribe of :class:`TraceEvent`.

    ``emit`` reads an immutable snapshot of the subscriber list, so it takes no lock
    and a subscriber may (un)subscribe from inside a callback.

    Args:
        raise_errors: re-raise subscriber errors instead of logging them. For the
            project's own tests; never set it in production.
    """

    def __init__(self, *, raise_errors: bool = False) -> None:
        self._subscriptions: tuple[_Subscription, ...] = ()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._raise_errors = raise_errors
        self._failed_once: set[int] = set()
        self._pending: set[asyncio.Future[Any]] = set()
        self.error_count = 0
        """How many times a subscriber raised (each one logged, the first with a traceback)."""

    # -- subscribing ---------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> int:
        """Receive every event; returns an id for :meth:`unsubscribe`."""
        return self._add(callback, None)

    def subscribe_filter(self, event_types: Iterable[str], callback: Subscriber) -> int:
        """Receive only events whose ``event_type`` is in ``event_types``."""
        if isinstance(event_types, str):
            msg = (
                f"subscribe_filter(event_types={event_types!r}): pass a collection of "
                f"event types, e.g. {{{event_types!r}}}, not a single string."
            )
            raise TypeError(msg)
        return self._add(callback, frozenset(event_types))

    def unsubscribe(self, sub_id: int) -> bool:
        """Stop a subscription; returns False when the id was not subscribed."""
        with self._lock:
            kept = tuple(s for s in self._subscriptions if s.sub_id != sub_id)
            removed = len(kept) != len(self._subscriptions)
            self._subscriptions = kept
        return removed

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def _add(self, callback: Subscriber, event_types: frozenset[str] | None) -> int:
        if not callable(callback):
            msg = f"TraceEventBus subscriber must be callable, got {callback!r}."
            raise TypeError(msg)
        with self._lock:
            sub_id = next(self._ids)
            self._subscriptions = (*self._subscriptions, _Subscription(sub_id, callback, event_types))
        return sub_id

    # -- emitting ------------------------------------------------------------------------
    def emit(self, event: TraceEvent) -> None:
        """Deliver ``event`` to every matching subscriber, in subscription order.

        A coroutine returned by an async subscriber is scheduled on the running event
        loop; with no loop running use :meth:`emit_async` instead.
        """
        for sub in self._subscriptions:
            if sub.event_types is not None and event.event_type not in sub.event_types:
                continue
            try:
                result = sub.callback(event)
                if result is not None and inspect.isawaitable(result):
                    self._schedule(result)
            except Exception as exc:
                self._on_error(sub, event, exc)

    async def emit_async(self, event: TraceEvent) -> None:
        """Deliver ``event`` and await the subscribers that are coroutines, one by one."""
        for sub in self._subscriptions:
            if sub.event_types is not None and event.event_type not in sub.event_types:
                continue
            try:
                result = sub.callback(event)
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._on_error(sub, event, exc)

    def _schedule(self, awaitable: Awaitable[Any]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            msg = "an async subscriber was called by emit() outside an event loop; use emit_async()"
            raise RuntimeError(msg) from None
        future = asyncio.ensure_future(awaitable, loop=loop)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _on_error(self, sub: _Subscription, event: TraceEvent, exc: Exception) -> None:
        with self._lock:
            self.error_count += 1
            first = sub.sub_id not in self._failed_once
            self._failed_once.add(sub.sub_id)
        if self._raise_errors:
            raise exc
        if first:
            logger.warning(
                "TraceEventBus subscriber %r failed on a %r event; the run goes on "
                "(further failures of this subscriber are logged at debug level)",
                sub.callback,
                event.event_type,
                exc_info=exc,
            )
        else:
            logger.debug("TraceEventBus subscriber %r failed again: %r", sub.callback, exc)
