"""TraceEventBus: delivery, filtering, error isolation, async subscribers, threads."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from pyagent_trace.events import TraceEvent, TraceEventBus


def _event(event_type: str = "agent_start", agent: str = "analyst") -> TraceEvent:
    return TraceEvent(timestamp=1.0, event_type=event_type, agent_name=agent, pattern_type="pipeline")


def test_every_subscriber_receives_each_event_in_subscription_order():
    bus = TraceEventBus()
    seen: list[str] = []
    bus.subscribe(lambda e: seen.append(f"a:{e.event_type}"))
    bus.subscribe(lambda e: seen.append(f"b:{e.event_type}"))
    bus.emit(_event())
    assert seen == ["a:agent_start", "b:agent_start"]


def test_subscribe_filter_delivers_only_the_listed_event_types():
    bus = TraceEventBus()
    seen: list[str] = []
    bus.subscribe_filter({"agent_end"}, lambda e: seen.append(e.event_type))
    bus.emit(_event("agent_start"))
    bus.emit(_event("agent_end"))
    assert seen == ["agent_end"]


def test_subscribe_filter_rejects_a_bare_string_with_a_hint():
    with pytest.raises(TypeError, match=r"not a single string"):
        TraceEventBus().subscribe_filter("agent_end", print)


def test_subscribe_rejects_a_non_callable():
    with pytest.raises(TypeError, match="must be callable"):
        TraceEventBus().subscribe("print")  # type: ignore[arg-type]


def test_unsubscribe_stops_delivery_and_reports_unknown_ids():
    bus = TraceEventBus()
    seen: list[TraceEvent] = []
    sub_id = bus.subscribe(seen.append)
    assert bus.unsubscribe(sub_id) is True
    assert bus.unsubscribe(sub_id) is False
    bus.emit(_event())
    assert seen == []
    assert bus.subscriber_count == 0


def test_a_failing_subscriber_neither_stops_the_emit_nor_reaches_the_producer(caplog):
    bus = TraceEventBus()
    seen: list[TraceEvent] = []

    def broken(event: TraceEvent) -> None:
        raise RuntimeError("exporter down")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    with caplog.at_level(logging.DEBUG, logger="pyagent_trace.events"):
        bus.emit(_event())
        bus.emit(_event())
    assert len(seen) == 2
    assert bus.error_count == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "the first failure is logged as a warning, later ones at debug"
    assert "exporter down" in caplog.text


def test_raise_errors_re_raises_for_the_projects_own_tests():
    bus = TraceEventBus(raise_errors=True)
    bus.subscribe(lambda e: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        bus.emit(_event())


async def test_emit_async_awaits_coroutine_subscribers():
    bus = TraceEventBus()
    seen: list[str] = []

    async def slow(event: TraceEvent) -> None:
        await asyncio.sleep(0)
        seen.append(event.event_type)

    bus.subscribe(slow)
    bus.subscribe(lambda e: seen.append("sync"))
    await bus.emit_async(_event())
    assert seen == ["agent_start", "sync"]


async def test_emit_async_isolates_a_failing_coroutine_subscriber():
    bus = TraceEventBus()

    async def broken(event: TraceEvent) -> None:
        raise ValueError("nope")

    bus.subscribe(broken)
    await bus.emit_async(_event())
    assert bus.error_count == 1


async def test_emit_schedules_coroutine_subscribers_on_the_running_loop():
    bus = TraceEventBus()
    seen: list[str] = []

    async def sub(event: TraceEvent) -> None:
        seen.append(event.event_type)

    bus.subscribe(sub)
    bus.emit(_event())
    await asyncio.sleep(0)
    assert seen == ["agent_start"]


def test_emit_outside_a_loop_counts_an_async_subscriber_as_an_error():
    bus = TraceEventBus()

    async def sub(event: TraceEvent) -> None:  # pragma: no cover - never awaited
        pass

    bus.subscribe(sub)
    bus.emit(_event())
    assert bus.error_count == 1


def test_emit_from_many_threads_delivers_every_event_once():
    bus = TraceEventBus()
    seen: list[TraceEvent] = []
    lock = threading.Lock()

    def sub(event: TraceEvent) -> None:
        with lock:
            seen.append(event)

    bus.subscribe(sub)

    def worker() -> None:
        for _ in range(500):
            bus.emit(_event())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4000


def test_subscribing_while_other_threads_emit_is_safe():
    bus = TraceEventBus()
    stop = threading.Event()

    def emitter() -> None:
        while not stop.is_set():
            bus.emit(_event())

    thread = threading.Thread(target=emitter)
    thread.start()
    ids = [bus.subscribe(lambda e: None) for _ in range(200)]
    for sub_id in ids:
        bus.unsubscribe(sub_id)
    stop.set()
    thread.join()
    assert bus.subscriber_count == 0
    assert bus.error_count == 0


def test_trace_event_defaults_match_what_pyagent_patterns_emits():
    event = TraceEvent(timestamp=2.0, event_type="pattern_start", pattern_type="debate")
    assert event.agent_name == ""
    assert event.to_dict() == {
        "timestamp": 2.0,
        "event_type": "pattern_start",
        "agent_name": "",
        "pattern_type": "debate",
        "payload": {},
    }
