"""Per-run and per-test state of the plugin, kept in ``config.stash`` / ``item.stash``."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pyagent_trace.exceptions import PyAgentTraceError
from pytest_pyagent_trace._report import SessionReport, TestUsage
from pytest_pyagent_trace._settings import ModeSources, RecordMode, cassette_path, resolve_mode
from pytest_pyagent_trace._stale import CassetteUse

if TYPE_CHECKING:
    from pyagent_trace.cost import CostTracker
    from pyagent_trace.events import TraceEventBus
    from pytest_pyagent_trace._cassette import Cassette
    from pytest_pyagent_trace._network import NetworkBlocker
    from pytest_pyagent_trace._spans import SpanRouter

__all__ = [
    "STATE",
    "TEST",
    "RunState",
    "TestContext",
    "blocked_hint",
    "cassette_for",
    "cassette_marker_path",
    "context_for",
    "record_commands",
    "test_mode",
]


STATE = pytest.StashKey["RunState"]()
TEST = pytest.StashKey["TestContext"]()


@dataclass
class RunState:
    """What the plugin knows about this run."""

    session_mode: RecordMode
    report: SessionReport
    rootdir: Path
    cassette_root: str | None
    match: str
    strict: bool
    blocker: NetworkBlocker | None = None
    router: SpanRouter | None = None
    current_nodeid: str = ""
    cassettes: CassetteUse = field(default_factory=CassetteUse)


@dataclass
class TestContext:
    """One test's tracker, bus, cassette and span exporter (each made on first use)."""

    __test__ = False

    nodeid: str
    tracker: CostTracker
    bus: TraceEventBus
    cassette: Cassette | None = None

    def raised(self, err: PyAgentTraceError) -> bool:
        """Whether ``err`` came from this test's cassette or budget, not the code under test."""
        from pyagent_trace.exceptions import BudgetExceededError

        errors = self.cassette.errors if self.cassette is not None else []
        return isinstance(err, BudgetExceededError) or any(err is e for e in errors)

    def usage(self) -> TestUsage:
        summary = self.tracker.summary()
        usage = TestUsage(
            self.nodeid,
            cost_usd=summary.total_usd,
            tokens=summary.input_tokens + summary.output_tokens,
            unpriced_calls=summary.unpriced_calls,
        )
        if self.cassette is not None:
            usage.mode = self.cassette.mode.value
            usage.cassette = self.cassette.display_path
            usage.missing = self.cassette.missing
            usage.written = self.cassette.written
            usage.calls_replayed = self.cassette.calls_replayed
            usage.calls_recorded = self.cassette.calls_recorded
            usage.unused_calls = len(self.cassette.unused_calls())
        return usage


def _marker_kwarg(item: pytest.Item, name: str) -> Any:
    marker = item.get_closest_marker("cassette")
    return None if marker is None else marker.kwargs.get(name)


def cassette_marker_path(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("cassette")
    if marker is None:
        return None
    return marker.args[0] if marker.args else marker.kwargs.get("path")


def test_mode(item: pytest.Item, state: RunState) -> RecordMode:
    """Marker → command line/ini (already folded into the session mode)."""
    marker_mode = _marker_kwarg(item, "record_mode")
    if marker_mode is None:
        return state.session_mode
    return resolve_mode(ModeSources(marker=str(marker_mode), command_line=None, ini=None))


def test_match(item: pytest.Item, state: RunState) -> str:
    value = _marker_kwarg(item, "match")
    return str(value) if value is not None else state.match


def default_cassette(item: pytest.Item, state: RunState) -> Path:
    return _path(item, state, explicit=None)


def records(item: pytest.Item, state: RunState) -> bool:
    """Whether the test may call a real LLM (its mode records); a bad marker fails it later."""
    try:
        return test_mode(item, state).records
    except PyAgentTraceError:
        return False


def item_cassette(item: pytest.Item, state: RunState) -> Path:
    return _path(item, state, explicit=cassette_marker_path(item))


def _path(item: pytest.Item, state: RunState, explicit: str | None) -> Path:
    cls = getattr(item, "cls", None)
    name = getattr(item, "name", item.nodeid.rsplit("::", 1)[-1])
    return cassette_path(
        test_file=Path(str(item.path)),
        test_name=name,
        class_name=cls.__name__ if cls is not None else None,
        root=state.cassette_root,
        rootdir=state.rootdir,
        explicit=explicit,
    )


def record_commands(nodeid: str) -> tuple[str, str]:
    """How to record a missing cassette, and how to re-record a stale one."""
    quoted = shlex.quote(nodeid)
    return f"pytest --record-mode=once {quoted}", f"pytest --record {quoted}"


def blocked_hint(state: RunState) -> str:
    """The tail of a network-block error: which test, and how to record it instead."""
    record, _ = record_commands(state.current_nodeid or "<test>")
    return (
        f"Test {state.current_nodeid or '(outside a test)'} runs in record mode 'none' (replay only), "
        f"which refuses network access so no paid API is reached. Record with: {record} "
        "(or turn the block off with --allow-network)."
    )


def context_for(item: pytest.Item, prices: Any = None) -> TestContext:
    """The test's context, made on first use with the ``pyagent_trace_prices`` it was given."""
    if TEST not in item.stash:
        from pyagent_trace.cost import CostTracker
        from pyagent_trace.events import TraceEventBus

        bus = TraceEventBus()
        item.stash[TEST] = TestContext(item.nodeid, CostTracker(event_bus=bus, prices=prices), bus)
    return item.stash[TEST]


def cassette_for(item: pytest.Item, prices: Any = None) -> Cassette:
    """The test's cassette, made on first use; a bad setting or file fails the test cleanly."""
    test = context_for(item, prices)
    if test.cassette is not None:
        return test.cassette
    from pytest_pyagent_trace._cassette import Cassette

    state = item.config.stash[STATE]
    record, rerecord = record_commands(item.nodeid)
    try:
        test.cassette = Cassette(
            item_cassette(item, state),
            test_mode(item, state),
            match=test_match(item, state),  # type: ignore[arg-type]
            tracker=test.tracker,
            bus=test.bus,
            record_command=record,
            rerecord_command=rerecord,
            recorded_by=item.nodeid if cassette_marker_path(item) is not None else None,
        )
        return test.cassette
    except PyAgentTraceError as err:
        failure = str(err)
    pytest.fail(failure, pytrace=False)  # outside the except block: no "During handling of..." chain
