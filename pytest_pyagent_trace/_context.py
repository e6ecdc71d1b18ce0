"""Per-run and per-test state of the plugin, kept in ``config.stash`` / ``item.stash``.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import inspect
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pyagent_trace.exceptions import PyAgentTraceError
from pytest_pyagent_trace._settings import (
    MATCHES,
    CassetteMarker,
    DriftSettings,
    ModeSources,
    RecordMode,
    cassette_path,
    parse_cassette_marker,
    resolve_mode,
    split_list,
)
from pytest_pyagent_trace._stale import CassetteUse
from pytest_pyagent_trace._summary import SessionReport, TestUsage

if TYPE_CHECKING:
    from pyagent_trace._recording import RecordEntry
    from pyagent_trace.cassette import Cassette
    from pyagent_trace.cost import CostTracker
    from pyagent_trace.drift import Drift
    from pyagent_trace.events import TraceEventBus
    from pyagent_trace.http._background import Background
    from pyagent_trace.scrub import ScrubConfig
    from pytest_pyagent_trace._network import NetworkBlocker
    from pytest_pyagent_trace._spans import SpanRouter

__all__ = [
    "MARKER_ERROR",
    "MATCHES",
    "STATE",
    "TEST",
    "RunState",
    "TestContext",
    "background_rules",
    "baseline",
    "blocked_hint",
    "cassette_for",
    "checked_cassette_path",
    "context_for",
    "explain_unrun_async",
    "forget",
    "ini_list",
    "narrowed_modules",
    "record_commands",
    "rerecord_command",
    "test_mode",
    "uses_plugin",
]


USES = ("cassette", "cost_tracker", "trace_bus", "span_exporter", "spans", "span_tree")
STATE = pytest.StashKey["RunState"]()
TEST = pytest.StashKey["TestContext"]()
MARKER = pytest.StashKey[CassetteMarker]()
MARKER_ERROR = pytest.StashKey[str]()
CASSETTE_PATH = pytest.StashKey[Path]()
BASELINE = pytest.StashKey["list[RecordEntry] | None"]()
"""The cassette's entries before the test's first attempt (None: no file), so a rerun
replays and writes as the first attempt would have."""


@dataclass
class RunState:
    """What the plugin knows about this run."""

    session_mode: RecordMode
    report: SessionReport
    rootdir: Path
    cassette_root: str | None
    match: str
    strict: bool
    block_all: bool = False
    """``--block-network`` / ini: block every test that does not record, not only cassette tests."""
    allow_network: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    background: tuple[Background, ...] = ()
    """The ini's background traffic (``pyagent_trace_ignore_hosts``): refused quietly."""
    narrowed: frozenset[Path] = frozenset()
    """Test modules the command line narrowed to some of their tests (``file.py::test``)."""
    blocker: NetworkBlocker | None = None
    router: SpanRouter | None = None
    current_nodeid: str = ""
    cassettes: CassetteUse = field(default_factory=CassetteUse)
    http_settings: tuple[ScrubConfig, tuple[str, ...]] | None = None
    """The HTTP scrub filters and ignored hosts of the ini (read at the first cassette)."""
    drift: DriftSettings = field(default_factory=DriftSettings)
    _module_dirs: dict[Path, Path] = field(default_factory=dict)

    def network_blocker(self) -> NetworkBlocker:
        if self.blocker is None:
            from pytest_pyagent_trace._network import NetworkBlocker

            self.blocker = NetworkBlocker(lambda: blocked_hint(self), self.allowed_hosts, self.background)
        return self.blocker

    def module_dir(self, item: pytest.Item) -> Path:
        """The cassette folder of the item's module (computed once per module)."""
        module = item.path
        if module not in self._module_dirs:
            default = _path(item, self, explicit=None)
            self._module_dirs[module] = default.parent
            self.cassettes.add_module(default, module.parent)
        return self._module_dirs[module]


@dataclass
class TestContext:
    """One test attempt's tracker, bus and cassette (each made on first use)."""

    __test__ = False

    nodeid: str
    tracker: CostTracker
    bus: TraceEventBus
    cassette: Cassette | None = None
    asked: bool = False
    """The test asked its cassette for a call (one it had, or one it lacked)."""
    passed: bool = False
    _drift: tuple[Drift | None] | None = None

    def drift(self) -> Drift | None:
        """How the test's live calls differ from its committed cassette (record mode check
        only; computed once)."""
        if self._drift is None:
            cassette = self.cassette
            found = None
            if cassette is not None and cassette.mode is RecordMode.CHECK:
                from pyagent_trace.drift import compute_drift

                found = compute_drift(cassette.before, cassette.after)
            self._drift = (found,)
        return self._drift[0]

    def raised(self, err: PyAgentTraceError) -> bool:
        """Whether ``err`` came from this test's cassette or budget, not the code under test."""
        from pyagent_trace.exceptions import BudgetExceededError

        errors = self.cassette.errors if self.cassette is not None else []
        return isinstance(err, BudgetExceededError) or any(err is e for e in errors)

    def usage(self) -> TestUsage:
        tracker = self.tracker
        usage = TestUsage(
            self.nodeid,
            cost_usd=tracker.total_cost,
            tokens=tracker.total_tokens,
            unpriced_calls=tracker.unpriced_calls,
        )
        if tracker.call_count:
            from pyagent_trace.run_report import usage_groups

            usage.by_agent, usage.by_model = usage_groups(tracker.entries)
        cassette = self.cassette
        if cassette is not None:
            asked = self.asked or bool(cassette.errors) or bool(cassette.calls_replayed or cassette.calls_recorded)
            usage.mode = cassette.mode.value
            usage.cassette = cassette.display_path
            usage.missing = cassette.missing and asked
            usage.no_calls = not asked and not cassette.existed and self.passed
            usage.written = cassette.written
            usage.calls_replayed = cassette.calls_replayed
            usage.calls_recorded = cassette.calls_recorded
            usage.unused_calls = len(cassette.unused_calls()) if self.passed else 0
            drift = self.drift()
            if drift is not None:
                usage.drift = drift.to_dict() | {"rerecord": rerecord_command(self.nodeid)}
        return usage


def forget(item: pytest.Item) -> None:
    """Drop a finished test's tracker, cassette and baseline (its report has its numbers)."""
    if TEST in item.stash:
        del item.stash[TEST]
    if BASELINE in item.stash:
        del item.stash[BASELINE]


def uses_plugin(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return item.get_closest_marker("cassette") is not None or any(n in names for n in USES)


def has_cassette(item: pytest.Item) -> bool:
    return item.get_closest_marker("cassette") is not None or "cassette" in getattr(item, "fixturenames", ())


def ini_list(config: pytest.Config, name: str) -> list[str]:
    return split_list([str(v) for v in config.getini(name)])


def background_rules(config: pytest.Config) -> tuple[Background, ...]:
    """The ini's background traffic (imported only when there is some: start-up is benchmarked)."""
    entries = ini_list(config, "pyagent_trace_ignore_hosts")
    if not entries:
        return ()
    from pyagent_trace.http._background import parse_rules

    try:
        return parse_rules(entries)
    except PyAgentTraceError as err:
        failure = str(err)
    raise pytest.UsageError(failure)  # outside the except block: no "During handling of..." chain


def narrowed_modules(config: pytest.Config) -> frozenset[Path]:
    """Modules named with a test id on the command line (``tests/test_x.py::test_two``)."""
    base = config.invocation_params.dir
    return frozenset((base / arg.split("::", 1)[0]).resolve() for arg in config.args if "::" in arg)


def marker_of(item: pytest.Item) -> CassetteMarker:
    """The test's cassette marker, checked once (a bad one is a ConfigError)."""
    if MARKER not in item.stash:
        marker = item.get_closest_marker("cassette")
        parsed = CassetteMarker() if marker is None else parse_cassette_marker(marker.args, marker.kwargs, item.nodeid)
        item.stash[MARKER] = parsed
    return item.stash[MARKER]


def checked_cassette_path(item: pytest.Item, state: RunState) -> Path | None:
    """The test's cassette path; None (and the test fails at setup) when its marker is bad."""
    try:
        return item_cassette(item, state)
    except PyAgentTraceError as err:
        item.stash[MARKER_ERROR] = str(err)
        return None


def test_mode(item: pytest.Item, state: RunState) -> RecordMode:
    """Marker → command line/ini (already folded into the session mode)."""
    marker_mode = marker_of(item).record_mode
    if marker_mode is None:
        return state.session_mode
    return resolve_mode(ModeSources(marker=marker_mode, command_line=None, ini=None))


def test_match(item: pytest.Item, state: RunState) -> str:
    return marker_of(item).match or state.match


def item_cassette(item: pytest.Item, state: RunState) -> Path:
    """The test's cassette path (computed once per test; a bad marker raises each time)."""
    if CASSETTE_PATH not in item.stash:
        item.stash[CASSETTE_PATH] = _path(item, state, explicit=marker_of(item).path)
    return item.stash[CASSETTE_PATH]


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


def baseline(item: pytest.Item, path: Path, mode: RecordMode | None) -> list[RecordEntry] | None:
    """The cassette as it was before the test's first attempt (read once per test). A file
    that does not parse is an error, except when it is being re-recorded (mode all)."""
    if BASELINE not in item.stash:
        from pyagent_trace.cassette._file import read_cassette

        item.stash[BASELINE] = read_cassette(path, rerecording=mode is RecordMode.ALL)
    return item.stash[BASELINE]


def record_commands(nodeid: str) -> tuple[str, str]:
    """How to record a missing cassette, and how to re-record a stale one."""
    quoted = shlex.quote(nodeid)
    return f"pytest --record-mode=once {quoted}", f"pytest --record {quoted}"


def rerecord_command(*nodeids: str) -> str:
    """How to re-record just these tests (after a drift check)."""
    return " ".join(["pytest --record-mode=all", *map(shlex.quote, nodeids)])


def blocked_hint(state: RunState | None) -> str:
    """The tail of a network-block error: which test, and how to record it instead."""
    if state is None or not state.current_nodeid:  # conftest import, collection: a session-wide block
        return (
            "The session blocks the network (--block-network or pyagent_trace_block_network = true); "
            "turn the block off with --allow-network."
        )
    record, _ = record_commands(state.current_nodeid or "<test>")
    return (
        f"Test {state.current_nodeid or '(outside a test)'} replays its cassette (record mode 'none'), "
        f"which refuses network access so no paid API is reached. Record with: {record} "
        "(or turn the block off with --allow-network)."
    )


def explain_unrun_async(item: pytest.Item, report: pytest.TestReport) -> None:
    """An ``async def`` test that no async plugin ran (pytest-asyncio strict mode without
    ``@pytest.mark.asyncio``): say so, instead of a cassette hint that would mislead."""
    function = getattr(item, "obj", None)
    if inspect.iscoroutinefunction(function) and "not natively supported" in str(report.longrepr):
        report.sections.append(
            (
                "pyagent-trace",
                "This async test never ran, so its cassette was not used. pytest-asyncio in strict mode "
                'runs only tests marked @pytest.mark.asyncio: mark it, or set asyncio_mode = "auto" in '
                "your pytest configuration.",
            )
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
    from pyagent_trace.cassette import Cassette
    from pyagent_trace.scrub import ScrubConfig

    state = item.config.stash[STATE]
    config = item.config
    if state.http_settings is None:  # the same for every test: read once
        scrub = ScrubConfig().with_extra(
            headers=ini_list(config, "pyagent_trace_scrub_headers"),
            query=ini_list(config, "pyagent_trace_scrub_query"),
            body_paths=ini_list(config, "pyagent_trace_scrub_body_paths"),
            fields=ini_list(config, "pyagent_trace_scrub_fields"),
        )
        state.http_settings = (scrub, tuple(ini_list(config, "pyagent_trace_ignore_hosts")))
    scrub, ignore_hosts = state.http_settings
    record, rerecord = record_commands(item.nodeid)
    try:
        path = item_cassette(item, state)
        mode = test_mode(item, state)
        test.cassette = Cassette(
            path,
            mode,
            match=test_match(item, state),  # type: ignore[arg-type]
            tracker=test.tracker,
            bus=test.bus,
            record_command=record,
            rerecord_command=rerecord,
            recorded_by=item.nodeid if marker_of(item).path is not None else None,
            baseline=baseline(item, path, mode),
            scrub=scrub,
            ignore_hosts=ignore_hosts,
        )
        return test.cassette
    except PyAgentTraceError as err:
        failure = str(err)
    pytest.fail(failure, pytrace=False)  # outside the except block: no "During handling of..." chain
