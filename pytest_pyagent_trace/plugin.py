"""pytest hooks, options, markers and fixtures of pyagent-trace. Logic lives in the
``_``-modules beside this one; heavy imports happen only when a test uses the plugin."""

from __future__ import annotations

import json
import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyagent_trace.exceptions import BudgetExceededError, PyAgentTraceError, PyAgentTraceWarning
from pytest_pyagent_trace import _context as ctx
from pytest_pyagent_trace._report import PROPERTY, SessionReport, TestUsage
from pytest_pyagent_trace._settings import ModeSources, RecordMode, resolve_mode

STATE = pytest.StashKey[ctx.RunState]()
TEST = pytest.StashKey[ctx.TestContext]()
USES = ("cassette", "cost_tracker", "trace_bus", "span_exporter", "spans", "span_tree")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pyagent-trace", "record/replay LLM calls, cost budgets, span assertions")
    modes = [m.value for m in RecordMode]
    group.addoption("--record-mode", dest="pyagent_trace_record_mode", choices=modes, default=None,
                    help="none: replay only (default); once: record missing cassettes; new: record missing "
                    "calls; all: re-record everything.")
    group.addoption("--record", dest="pyagent_trace_record_mode", action="store_const", const="all",
                    help="Re-record every cassette (short for --record-mode=all). Spends real money.")
    group.addoption("--replay", dest="pyagent_trace_record_mode", action="store_const", const="none",
                    help="Replay only, never call an LLM (short for --record-mode=none).")
    group.addoption("--allow-network", dest="pyagent_trace_allow_network", action="store_true", default=False,
                    help="Do not block outbound network connections in replay mode.")
    group.addoption("--strict-cassettes", dest="pyagent_trace_strict", action="store_true", default=False,
                    help="Fail on recorded calls a test never used and on cassettes no collected test uses.")
    group.addoption("--cost-report", dest="pyagent_trace_cost_report", default=None, metavar="PATH",
                    help="Write the run's cost and cassette summary as JSON to PATH.")
    parser.addini("pyagent_trace_record_mode", "Default record mode (none, once, new, all).", default="none")
    parser.addini("pyagent_trace_cassette_dir", "One folder for all cassettes, relative to the rootdir.")
    parser.addini("pyagent_trace_match", "How replay finds a call: messages (default) or order.",
                  default="messages")
    parser.addini("pyagent_trace_allowed_hosts", "Hosts reachable in replay mode besides loopback.",
                  type="linelist", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cassette(path=None, *, record_mode=None, match=None): record and "
                            "replay this test's LLM calls in a JSONL cassette.")
    config.addinivalue_line("markers", "cost_budget(usd=None, tokens=None, calls=None): fail the test when "
                            "its LLM calls spend more.")
    try:
        mode = resolve_mode(ModeSources(None, config.getoption("pyagent_trace_record_mode"),
                                        str(config.getini("pyagent_trace_record_mode"))))
    except PyAgentTraceError as err:
        raise pytest.UsageError(str(err)) from None
    match = str(config.getini("pyagent_trace_match"))
    if match not in ("messages", "order"):
        raise pytest.UsageError(f"ini option pyagent_trace_match = {match!r}: use messages or order.")
    strict = bool(config.getoption("pyagent_trace_strict"))
    state = ctx.RunState(mode, SessionReport(mode.value, strict=strict), Path(str(config.rootpath)),
                         str(config.getini("pyagent_trace_cassette_dir")) or None, match, strict)
    config.stash[STATE] = state
    config.pluginmanager.register(RunReporter(config, state), "pyagent_trace_reporter")
    if mode is RecordMode.NONE and not config.getoption("pyagent_trace_allow_network"):
        from pytest_pyagent_trace._network import NetworkBlocker

        allowed = frozenset(config.getini("pyagent_trace_allowed_hosts"))
        state.blocker = NetworkBlocker(lambda: _blocked_hint(state), allowed)
        manager = state.blocker.active()
        manager.__enter__()
        config.add_cleanup(lambda: manager.__exit__(None, None, None))


def _blocked_hint(state: ctx.RunState) -> str:
    record, _ = ctx.record_commands(state.current_nodeid or "<test>")
    return (f"Test {state.current_nodeid or '(outside a test)'} runs in record mode 'none' (replay only), "
            f"which refuses network access so no paid API is reached. Record with: {record} "
            "(or turn the block off with --allow-network).")


def _uses_plugin(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return item.get_closest_marker("cassette") is not None or any(n in names for n in USES)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before deselection: every collected test's cassette counts as used (stale detection)."""
    state = config.stash[STATE]
    for item in items:
        state.cassette_dirs.add(str(ctx.default_cassette(item, state).parent))
        if _uses_plugin(item):
            state.expected_cassettes.add(str(ctx.item_cassette(item, state)))


def _context(item: pytest.Item) -> ctx.TestContext:
    if TEST not in item.stash:
        from pyagent_trace.cost import CostTracker
        from pyagent_trace.events import TraceEventBus

        bus = TraceEventBus()
        prices = item.funcargs.get("pyagent_trace_prices") if hasattr(item, "funcargs") else None
        item.stash[TEST] = ctx.TestContext(item.nodeid, CostTracker(event_bus=bus, prices=prices), bus)
    return item.stash[TEST]


def _cassette(item: pytest.Item) -> Any:
    test = _context(item)
    if test.cassette is None:
        from pytest_pyagent_trace._cassette import Cassette

        state = item.config.stash[STATE]
        record, rerecord = ctx.record_commands(item.nodeid)
        shared = ctx.cassette_marker_path(item) is not None
        try:
            test.cassette = Cassette(ctx.item_cassette(item, state), ctx.test_mode(item, state),
                                     match=ctx.test_match(item, state),  # type: ignore[arg-type]
                                     tracker=test.tracker, bus=test.bus, record_command=record,
                                     rerecord_command=rerecord, recorded_by=item.nodeid if shared else None)
        except PyAgentTraceError as err:
            pytest.fail(str(err), pytrace=False)
    return test.cassette


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    state = item.config.stash[STATE]
    state.current_nodeid = item.nodeid
    try:
        return (yield)
    finally:
        state.current_nodeid = ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    state = item.config.stash[STATE]
    if item.get_closest_marker("cassette") is not None:
        _cassette(item)
    records = state.blocker is not None and ctx.test_mode(item, state).records
    if records and state.blocker is not None:
        state.blocker.enabled = False
    try:
        result = yield
    except PyAgentTraceError as err:
        _finish(item)
        pytest.fail(str(err), pytrace=False)
    except BaseException:
        _finish(item)
        raise
    finally:
        if state.blocker is not None:
            state.blocker.enabled = True
    _finish(item)
    _check_after_success(item, state)
    return result


def _finish(item: pytest.Item) -> None:
    test = item.stash.get(TEST, None)
    if test is not None and test.cassette is not None:
        test.cassette.finish()


def _check_after_success(item: pytest.Item, state: ctx.RunState) -> None:
    test = item.stash.get(TEST, None)
    if test is not None and test.cassette is not None:
        unused = test.cassette.unused_calls()
        if unused:
            agents = ", ".join(sorted({e.agent_name for e in unused}))
            msg = (f"{len(unused)} recorded calls in {test.cassette.path} were never used (agents: {agents}). "
                   f"Re-record with: {ctx.record_commands(item.nodeid)[1]}")
            if state.strict:
                pytest.fail(msg + " (--strict-cassettes)", pytrace=False)
            warnings.warn(msg, PyAgentTraceWarning, stacklevel=1)
    budget = item.get_closest_marker("cost_budget")
    if budget is not None:
        try:
            _context(item).tracker.assert_under(**budget.kwargs)
        except (BudgetExceededError, PyAgentTraceError) as err:
            pytest.fail(f"{item.nodeid}: {err}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "teardown":
        test = item.stash.get(TEST, None)
        state = item.config.stash[STATE]
        usage = test.usage() if test is not None else TestUsage(item.nodeid)
        if state.blocker is not None:
            usage.refused = list(state.blocker.take_refused())
        if test is not None or usage.refused:
            report.user_properties.append((PROPERTY, usage.to_dict()))
    return report


class RunReporter:
    """Adds up every test's usage (from xdist workers too) and prints the summary."""

    def __init__(self, config: pytest.Config, state: ctx.RunState) -> None:
        self.config = config
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == PROPERTY and isinstance(value, dict):
                self.state.report.add(TestUsage(**value))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        collected = getattr(node, "workeroutput", {}).get(PROPERTY, {})
        self.state.expected_cassettes.update(collected.get("expected", ()))
        self.state.cassette_dirs.update(collected.get("dirs", ()))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        state = self.state
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: hand collection facts to the controller
            workeroutput[PROPERTY] = {"expected": sorted(state.expected_cassettes),
                                      "dirs": sorted(state.cassette_dirs)}
            return
        state.report.stale_cassettes = _stale(state)
        path = self.config.getoption("pyagent_trace_cost_report")
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(state.report.to_json(), indent=2) + "\n")
        if state.strict and state.report.stale_cassettes and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        lines = self.state.report.lines()
        if lines:
            terminalreporter.write_sep("-", "pyagent-trace")
            for line in lines:
                terminalreporter.write_line(line)


def _stale(state: ctx.RunState) -> list[str]:
    found = {str(p) for d in state.cassette_dirs for p in Path(d).glob("*.jsonl")}
    return sorted(_relative(p, Path.cwd()) for p in found - state.expected_cassettes)


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def pyagent_trace_prices() -> Any:
    """Override to price models the built-in table lacks: ``{"my-model": {"input": 1, "output": 2}}``."""
    return None


@pytest.fixture
def cassette(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> Any:
    """This test's cassette: ``cassette.llm(real_llm, agent_name=...)`` replays or records."""
    return _cassette(request.node)


@pytest.fixture
def cost_tracker(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> Any:
    """A CostTracker fed by every call the test's cassette records or replays."""
    return _context(request.node).tracker


@pytest.fixture
def trace_bus(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> Any:
    """The test's TraceEventBus: receives llm_call and cost_record events; wire agents to it."""
    return _context(request.node).bus


@pytest.fixture
def span_exporter(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An in-memory exporter holding only this test's finished spans."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from pytest_pyagent_trace._spans import SpanRouter

    state = request.config.stash[STATE]
    if state.router is None:
        state.router = SpanRouter.install()
    exporter = InMemorySpanExporter()
    _context(request.node).exporter = exporter
    state.router.route_to(exporter)
    yield exporter
    state.router.route_to(None)


@pytest.fixture
def spans(span_exporter: Any) -> Any:
    """The test's finished spans (read live), with ``.find(...)``, ``.one(...)``, ``.names``."""
    from pytest_pyagent_trace._spans import CapturedSpans

    return CapturedSpans(span_exporter)


@pytest.fixture
def span_tree(spans: Any) -> Any:
    """The test's spans as a normalised tree: ``assert span_tree == snapshot``."""
    from pytest_pyagent_trace._spans import SpanTree

    return SpanTree(spans)
