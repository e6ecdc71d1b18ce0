"""Per-run and per-test state of the plugin, kept in ``config.stash`` / ``item.stash``."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_pyagent_trace._report import SessionReport, TestUsage
from pytest_pyagent_trace._settings import ModeSources, RecordMode, cassette_path, resolve_mode

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from pyagent_trace.cost import CostTracker
    from pyagent_trace.events import TraceEventBus
    from pytest_pyagent_trace._cassette import Cassette
    from pytest_pyagent_trace._network import NetworkBlocker
    from pytest_pyagent_trace._spans import SpanRouter

__all__ = ["RunState", "TestContext", "cassette_marker_path", "test_mode"]


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
    expected_cassettes: set[str] = field(default_factory=set)
    cassette_dirs: set[str] = field(default_factory=set)


@dataclass
class TestContext:
    """One test's tracker, bus, cassette and span exporter (each made on first use)."""

    __test__ = False

    nodeid: str
    tracker: CostTracker
    bus: TraceEventBus
    cassette: Cassette | None = None
    exporter: InMemorySpanExporter | None = None

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
