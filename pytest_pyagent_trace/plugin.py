"""pytest hooks, markers and fixtures of pyagent-trace. Logic lives in the ``_``-modules
beside this one; heavy imports happen only when a test uses the plugin, and a test that
uses none of it runs exactly as without it: no patch, no network block, no report line.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pyagent_trace.exceptions import PyAgentTraceError
from pytest_pyagent_trace import _context as ctx
from pytest_pyagent_trace._options import (
    add_options,
    block_network_option,
    has_recording,
    record_mode_option,
    translate_for_recording,
)
from pytest_pyagent_trace._plan import PLAN, plan_for
from pytest_pyagent_trace._settings import ModeSources, command_line_mode, drift_settings, resolve_mode
from pytest_pyagent_trace._summary import PROPERTY, SessionReport, TestUsage

if TYPE_CHECKING:  # the fixtures' types; imported by the fixtures themselves when used
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from pyagent_trace.cassette import Cassette
    from pyagent_trace.cost import CostTracker
    from pyagent_trace.events import TraceEventBus
    from pytest_pyagent_trace._spans import CapturedSpans, SpanTree

STATE = ctx.STATE
NETWORK = "pytest_pyagent_trace._network"
NETWORK_GUARD = "pytest_pyagent_trace._network_guard"
TEST = ctx.TEST


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    add_options(parser, pluginmanager)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before any conftest is imported: ``--isolate-network`` re-runs the session in a
    network namespace, and a session-wide block starts, so a client a conftest builds at
    import time is refused too."""
    known = early_config.known_args_namespace
    if getattr(known, "pyagent_trace_isolate_network", False) or early_config.getini("pyagent_trace_isolate_network"):
        from pytest_pyagent_trace._isolate import isolate_session

        isolate_session(early_config)
    ours = getattr(known, "pyagent_trace_block_network", False) and not has_recording(early_config.pluginmanager)
    allow = getattr(known, "pyagent_trace_allow_network", False)
    if (ours or early_config.getini("pyagent_trace_block_network")) and not allow:
        from pytest_pyagent_trace._network import early_block

        allowed = frozenset(ctx.ini_list(early_config, "pyagent_trace_allowed_hosts"))
        early_block(early_config, allowed, ctx.background_rules(early_config))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cassette(path=None, *, record_mode=None, match=None): record and "
        "replay this test's LLM calls in a JSONL cassette.",
    )
    config.addinivalue_line(
        "markers",
        "cost_budget(usd=None, tokens=None, calls=None, *, regression=None): fail the test when its LLM calls "
        "spend more, or (re-record, check) grow more than regression times the committed cassette.",
    )
    option = config.option
    try:
        record, replay = option.pyagent_trace_record, option.pyagent_trace_replay
        given = command_line_mode(record_mode_option(config), record=record, replay=replay)
        mode = resolve_mode(ModeSources(None, given, str(config.getini("pyagent_trace_record_mode"))))
        ini = config.getini
        drift = drift_settings(str(ini("pyagent_trace_drift_fail")), str(ini("pyagent_trace_cost_regression")))
    except PyAgentTraceError as err:
        raise pytest.UsageError(str(err)) from None
    match = str(config.getini("pyagent_trace_match"))
    if match not in ctx.MATCHES:
        raise pytest.UsageError(f"ini option pyagent_trace_match = {match!r}: use messages or order.")
    if has_recording(config.pluginmanager):
        translate_for_recording(config)
    strict = bool(option.pyagent_trace_strict)
    allow = bool(option.pyagent_trace_allow_network)
    # pytest-recording's --block-network blocks every test itself; our ini key is ours alone.
    block_all = block_network_option(config) or bool(config.getini("pyagent_trace_block_network"))
    state = ctx.RunState(
        mode,
        SessionReport(mode.value, strict=strict),
        Path(str(config.rootpath)),
        str(config.getini("pyagent_trace_cassette_dir")) or None,
        match,
        strict,
        block_all=block_all and not allow,
        allow_network=allow,
        allowed_hosts=frozenset(ctx.ini_list(config, "pyagent_trace_allowed_hosts")),
        background=ctx.background_rules(config),
        narrowed=ctx.narrowed_modules(config),
        drift=drift,
    )
    config.stash[STATE] = state
    if NETWORK in sys.modules:  # imported only when a session-wide block started early
        state.blocker = sys.modules[NETWORK].early_blocker(config)
    from pytest_pyagent_trace._reporter import RunReporter

    config.pluginmanager.register(RunReporter(config, state), "pyagent_trace_reporter")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before deselection: check each test's cassette marker, and note which cassettes
    collected tests use (stale detection)."""
    state = config.stash[STATE]
    for item in items:
        module_dir = state.module_dir(item)
        if ctx.uses_plugin(item):
            path = ctx.checked_cassette_path(item, state)
            if path is not None:
                state.cassettes.add_used(path)
        if state.narrowed and item.path in state.narrowed:
            state.cassettes.add_partial(module_dir)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """A module some of whose tests were deselected (-k, -m, --lf, --deselect) is not whole:
    its cassettes are never called stale."""
    for item in items:
        state = item.config.stash.get(STATE, None)
        if state is not None:
            state.cassettes.add_partial(state.module_dir(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """The network block and placeholder keys, around all attempts of a cassette test."""
    state = item.config.stash[STATE]
    plan = plan_for(item, state)
    if plan is None or not plan.cassette:
        _release_http()  # a test without a cassette runs with no HTTP patch at all
    if plan is None or not plan.block:
        _release_guard()  # nor a test the block does not cover with a socket patch (a session-wide block stays)
    if plan is None:
        return (yield)
    state.current_nodeid = item.nodeid
    with contextlib.ExitStack() as stack:
        if state.blocker is not None and state.blocker.session_wide:  # on since before conftest import
            stack.callback(setattr, state.blocker, "enabled", True)
            state.blocker.enabled = plan.block
        elif plan.block:
            stack.enter_context(_guard(state))
        if plan.replays_only:
            from pytest_pyagent_trace._keys import placeholder_keys

            stack.enter_context(placeholder_keys())
        try:
            return (yield)
        finally:
            state.current_nodeid = ""
            ctx.forget(item)  # memory stays flat however many tests the session runs


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Each attempt starts fresh (pytest-rerunfailures, flaky retries); a bad marker fails
    its own test here, never the run."""
    if TEST in item.stash:
        del item.stash[TEST]
    error = item.stash.get(ctx.MARKER_ERROR, None)
    if error is not None:
        pytest.fail(error, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    state = item.config.stash[STATE]
    if item.get_closest_marker("cassette") is not None:  # the summary names it even if unused
        ctx.cassette_for(item, getattr(item, "funcargs", {}).get("pyagent_trace_prices"))
    failure: str | None = None
    http = _open_http(item)
    try:
        result = yield
    except PyAgentTraceError as err:
        failure = _close_http(item, http)
        test = _finish(item)
        if failure is None and (test is None or not test.raised(err)):  # e.g. a network block
            raise
        failure = failure or str(err)  # a replay or budget error: its message is the whole story
    except BaseException:
        failure = _close_http(item, http)
        _finish(item)
        if failure is None:
            raise
    else:
        failure = _close_http(item, http)
    test = _finish(item)
    if failure is not None:  # raised outside the except block: no "During handling of..." chain
        pytest.fail(failure, pytrace=False)
    budget = item.get_closest_marker("cost_budget")
    if (test is not None and test.cassette is not None) or budget is not None:
        from pytest_pyagent_trace._checks import check_after_test

        check_after_test(item, test, budget, strict=state.strict)
    return result


def _open_http(item: pytest.Item) -> Any:
    """Record/replay the test's HTTP calls (provider SDKs) when it has a cassette. The
    HTTP patches stay installed while cassette tests follow one another (installing them
    costs more than a test's replay); the next test without a cassette removes them."""
    test = item.stash.get(TEST, None)
    if test is None or test.cassette is None:
        return None
    from pyagent_trace.http._capture import CAPTURE

    CAPTURE.linger = True
    return test.cassette.open_http()


def _guard(state: ctx.RunState) -> contextlib.AbstractContextManager[object]:
    """The block for one replaying test. Its socket patches stay installed while guarded
    tests follow one another (installing them costs more than switching the block on);
    the next test the block does not cover removes them."""
    from pytest_pyagent_trace._network_guard import GUARD

    GUARD.linger = True
    return state.network_blocker().active()


def _release_guard() -> None:
    guard = sys.modules.get(NETWORK_GUARD)  # never imported: nothing to release
    if guard is not None:
        guard.GUARD.linger = False
        guard.GUARD.release()


def _release_http() -> None:
    capture = sys.modules.get("pyagent_trace.http._capture")  # never imported: nothing to release
    if capture is not None:
        capture.CAPTURE.release()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _release_http()
    _release_guard()
    state = session.config.stash.get(STATE, None)
    if state is not None and state.blocker is not None and state.blocker.session_wide:
        state.blocker.enabled = False  # the tests are over: reporting plugins may upload


def pytest_unconfigure(config: pytest.Config) -> None:
    if NETWORK in sys.modules:
        sys.modules[NETWORK].end_early_block(config)


def _close_http(item: pytest.Item, http: Any) -> str | None:
    """The first HTTP replay miss, which an SDK reports only as a vague connection error."""
    if http is None:
        return None
    test = item.stash[TEST]
    errors = test.cassette.close_http() if test.cassette is not None else []
    if not errors:
        return None
    test.asked = True
    return str(errors[0])


def _finish(item: pytest.Item) -> ctx.TestContext | None:
    """Write the cassette of a test that used the plugin (None: it used none of it)."""
    test = item.stash.get(TEST, None)
    failure = None
    if test is not None and test.cassette is not None:
        try:
            test.cassette.finish()
        except PyAgentTraceError as err:  # cannot write the cassette: its calls were rescued
            failure = str(err)
    if failure is not None:
        pytest.fail(failure, pytrace=False)
    return test


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    test = item.stash.get(TEST, None)
    if report.when == "call" and test is not None:
        test.passed = report.passed
        if report.failed:
            ctx.explain_unrun_async(item, report)
    if report.when == "teardown" and item.stash.get(PLAN, None) is not None:
        state = item.config.stash[STATE]
        usage = test.usage() if test is not None else TestUsage(item.nodeid)
        if state.blocker is not None:
            usage.refused = list(state.blocker.take_refused())
        if test is not None or usage.refused:
            report.user_properties.append((PROPERTY, usage.to_dict()))
    return report


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def pyagent_trace_prices() -> Any:
    """Override to price models genai-prices lacks, or to replace its prices (yours win):
    ``{"my-model": {"input": 1, "output": 2}}``, USD per 1M tokens."""
    return None


@pytest.fixture
def cassette(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> Cassette:
    """This test's cassette: ``cassette.llm(real_llm, agent_name=...)`` replays or records."""
    return ctx.cassette_for(request.node, pyagent_trace_prices)


@pytest.fixture
def cost_tracker(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> CostTracker:
    """A CostTracker fed by every call the test's cassette records or replays."""
    return ctx.context_for(request.node, pyagent_trace_prices).tracker


@pytest.fixture
def trace_bus(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> TraceEventBus:
    """The test's TraceEventBus: receives llm_call and cost_record events; wire agents to it."""
    return ctx.context_for(request.node, pyagent_trace_prices).bus


@pytest.fixture
def span_exporter(request: pytest.FixtureRequest) -> Iterator[InMemorySpanExporter]:
    """An in-memory exporter holding only this test's finished spans."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from pytest_pyagent_trace._spans import SpanCaptureError, SpanRouter

    state = request.config.stash[STATE]
    failure = ""
    try:
        router = state.router = state.router or SpanRouter.install()
        router.check()
    except SpanCaptureError as err:
        failure = str(err)
    if failure:  # outside the except block: no "During handling of..." chain
        pytest.fail(failure, pytrace=False)
    exporter = InMemorySpanExporter()
    router.route_to(exporter)
    yield exporter
    router.route_to(None)


@pytest.fixture
def spans(request: pytest.FixtureRequest, span_exporter: InMemorySpanExporter) -> CapturedSpans:
    """The test's finished spans (read live), with ``.find(...)``, ``.one(...)``, ``.names``."""
    from pytest_pyagent_trace._spans import CapturedSpans

    return CapturedSpans(span_exporter, request.config.stash[STATE].router)


@pytest.fixture
def span_tree(spans: CapturedSpans) -> SpanTree:
    """The test's spans as a normalised tree: ``assert span_tree == snapshot``."""
    from pytest_pyagent_trace._spans import SpanTree

    return SpanTree(spans)
