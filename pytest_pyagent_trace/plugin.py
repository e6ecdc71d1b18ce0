"""pytest hooks, options, markers and fixtures of pyagent-trace. Logic lives in the
``_``-modules beside this one; heavy imports happen only when a test uses the plugin."""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyagent_trace.exceptions import PyAgentTraceError
from pytest_pyagent_trace import _context as ctx
from pytest_pyagent_trace._report import PROPERTY, SessionReport, TestUsage
from pytest_pyagent_trace._settings import ModeSources, RecordMode, check_no_contradiction, resolve_mode

STATE = ctx.STATE
TEST = ctx.TEST
HTTP_INI = {
    "pyagent_trace_scrub_headers": "More headers to redact in HTTP cassettes (Authorization, API keys, cookies are).",
    "pyagent_trace_scrub_query": "More query parameters to redact in HTTP cassettes (key=, token=… are).",
    "pyagent_trace_scrub_body_paths": "JSON body paths to redact in HTTP cassettes, e.g. auth.token, items.*.secret.",
    "pyagent_trace_ignore_hosts": "Hosts (or host:port) whose HTTP traffic is never recorded nor replayed.",
}
USES = ("cassette", "cost_tracker", "trace_bus", "span_exporter", "spans", "span_tree")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pyagent-trace", "pyagent-trace: record/replay LLM calls, cost budgets, span assertions")
    modes = [m.value for m in RecordMode]
    group.addoption(
        "--record-mode",
        dest="pyagent_trace_record_mode",
        choices=modes,
        default=None,
        help="none: replay only (default); once: record missing cassettes; new: record missing "
        "calls; all: re-record everything.",
    )
    group.addoption(
        "--record",
        dest="pyagent_trace_record_mode",
        action="store_const",
        const="all",
        help="Re-record every cassette (short for --record-mode=all). Spends real money.",
    )
    group.addoption(
        "--replay",
        dest="pyagent_trace_record_mode",
        action="store_const",
        const="none",
        help="Replay only, never call an LLM (short for --record-mode=none).",
    )
    group.addoption(
        "--allow-network",
        dest="pyagent_trace_allow_network",
        action="store_true",
        default=False,
        help="Do not block outbound network connections in replay mode.",
    )
    group.addoption(
        "--strict-cassettes",
        dest="pyagent_trace_strict",
        action="store_true",
        default=False,
        help="Fail on recorded calls a test never used and on cassettes no collected test uses.",
    )
    group.addoption(
        "--cost-report",
        dest="pyagent_trace_cost_report",
        default=None,
        metavar="PATH",
        help="Write the run's cost and cassette summary as JSON to PATH.",
    )
    parser.addini("pyagent_trace_record_mode", "Default record mode (none, once, new, all).", default="none")
    parser.addini("pyagent_trace_cassette_dir", "One folder for all cassettes, relative to the rootdir.")
    parser.addini("pyagent_trace_match", "How replay finds a call: messages (default) or order.", default="messages")
    parser.addini(
        "pyagent_trace_allowed_hosts", "Hosts reachable in replay mode besides loopback.", type="linelist", default=[]
    )
    for name, what in HTTP_INI.items():
        parser.addini(name, what, type="linelist", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cassette(path=None, *, record_mode=None, match=None): record and "
        "replay this test's LLM calls in a JSONL cassette.",
    )
    config.addinivalue_line(
        "markers", "cost_budget(usd=None, tokens=None, calls=None): fail the test when its LLM calls spend more."
    )
    try:
        check_no_contradiction([str(a) for a in config.invocation_params.args])
        mode = resolve_mode(
            ModeSources(
                None, config.getoption("pyagent_trace_record_mode"), str(config.getini("pyagent_trace_record_mode"))
            )
        )
    except PyAgentTraceError as err:
        raise pytest.UsageError(str(err)) from None
    match = str(config.getini("pyagent_trace_match"))
    if match not in ("messages", "order"):
        raise pytest.UsageError(f"ini option pyagent_trace_match = {match!r}: use messages or order.")
    strict = bool(config.getoption("pyagent_trace_strict"))
    state = ctx.RunState(
        mode,
        SessionReport(mode.value, strict=strict),
        Path(str(config.rootpath)),
        str(config.getini("pyagent_trace_cassette_dir")) or None,
        match,
        strict,
    )
    config.stash[STATE] = state
    from pytest_pyagent_trace._reporter import RunReporter

    config.pluginmanager.register(RunReporter(config, state), "pyagent_trace_reporter")
    if mode is RecordMode.NONE and not config.getoption("pyagent_trace_allow_network"):
        from pytest_pyagent_trace._network import NetworkBlocker

        allowed = frozenset(config.getini("pyagent_trace_allowed_hosts"))
        state.blocker = NetworkBlocker(lambda: ctx.blocked_hint(state), allowed)
        blocking = contextlib.ExitStack()
        blocking.enter_context(state.blocker.active())
        config.add_cleanup(blocking.close)


def _uses_plugin(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return item.get_closest_marker("cassette") is not None or any(n in names for n in USES)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before deselection: every collected test's cassette counts as used (stale detection)."""
    state = config.stash[STATE]
    modules: set[Path] = set()
    for item in items:
        if item.path not in modules:  # the cassette folder depends on the module only
            modules.add(item.path)
            state.cassettes.add_module(ctx.default_cassette(item, state), Path(str(item.path)).parent)
        if _uses_plugin(item):
            state.cassettes.add_used(ctx.item_cassette(item, state))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    state = item.config.stash[STATE]
    state.current_nodeid = item.nodeid
    if state.blocker is not None:  # a test that records needs the real API, fixtures included
        state.blocker.enabled = not ctx.records(item, state)
    try:
        return (yield)
    finally:
        state.current_nodeid = ""
        if state.blocker is not None:
            state.blocker.enabled = True


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
        failure = _close_http(http)
        test = _finish(item)
        if failure is None and (test is None or not test.raised(err)):  # e.g. a network block
            raise
        failure = failure or str(err)  # a replay or budget error: its message is the whole story
    except BaseException:
        failure = _close_http(http)
        _finish(item)
        if failure is None:
            raise
    else:
        failure = _close_http(http)
    test = _finish(item)
    if failure is not None:  # raised outside the except block: no "During handling of..." chain
        pytest.fail(failure, pytrace=False)
    budget = item.get_closest_marker("cost_budget")
    if (test is not None and test.cassette is not None) or budget is not None:
        from pytest_pyagent_trace._checks import check_after_test

        check_after_test(item, test, budget, strict=state.strict)
    return result


def _open_http(item: pytest.Item) -> Any:
    """Record/replay the test's HTTP calls (provider SDKs) when it has a cassette."""
    test = item.stash.get(TEST, None)
    if test is None or test.cassette is None:
        return None
    from pytest_pyagent_trace._http_bridge import open_http

    settings = {name: tuple(item.config.getini(name)) for name in HTTP_INI}
    return open_http(test.cassette, settings)


def _close_http(http: Any) -> str | None:
    """The first HTTP replay miss, which an SDK reports only as a vague connection error."""
    if http is None:
        return None
    from pytest_pyagent_trace._http_bridge import close_http

    errors = close_http(http)
    return str(errors[0]) if errors else None


def _finish(item: pytest.Item) -> ctx.TestContext | None:
    """Write the cassette of a test that used the plugin (None: it used none of it)."""
    test = item.stash.get(TEST, None)
    if test is not None and test.cassette is not None:
        test.cassette.finish()
    return test


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


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def pyagent_trace_prices() -> Any:
    """Override to price models the built-in table lacks: ``{"my-model": {"input": 1, "output": 2}}``."""
    return None


@pytest.fixture
def cassette(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> Any:
    """This test's cassette: ``cassette.llm(real_llm, agent_name=...)`` replays or records."""
    return ctx.cassette_for(request.node, pyagent_trace_prices)


@pytest.fixture
def cost_tracker(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> Any:
    """A CostTracker fed by every call the test's cassette records or replays."""
    return ctx.context_for(request.node, pyagent_trace_prices).tracker


@pytest.fixture
def trace_bus(request: pytest.FixtureRequest, pyagent_trace_prices: Any) -> Any:
    """The test's TraceEventBus: receives llm_call and cost_record events; wire agents to it."""
    return ctx.context_for(request.node, pyagent_trace_prices).bus


@pytest.fixture
def span_exporter(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An in-memory exporter holding only this test's finished spans."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from pytest_pyagent_trace._spans import SpanRouter

    state = request.config.stash[STATE]
    if state.router is None:
        state.router = SpanRouter.install()
    exporter = InMemorySpanExporter()
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
