"""What the plugin checks once a test body passed: replay errors the code swallowed,
recorded calls it never made, its cost budget, its cost regression over the committed
cassette (re-record, check) and its drift (check). Each failure is the test's own,
reported with ``pytest.fail(..., pytrace=False)``: the message is the whole story.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest

from pyagent_trace.exceptions import BudgetExceededError, ConfigError, PyAgentTraceError, PyAgentTraceWarning
from pyagent_trace.record_mode import RecordMode
from pytest_pyagent_trace._context import STATE, TestContext, context_for, record_commands, rerecord_command
from pytest_pyagent_trace._summary import drift_headline

if TYPE_CHECKING:
    from pyagent_trace.cassette import Cassette
    from pyagent_trace.cost import CostTracker

__all__ = ["check_after_test", "check_budget", "check_cassette", "check_drift", "check_regression", "parse_budget"]

_LIMITS = ("usd", "tokens", "calls")
_ARGS = (*_LIMITS, "regression")
_REGRESSING = (RecordMode.ALL, RecordMode.NEW, RecordMode.CHECK)
"""Modes whose calls can grow over the committed cassette (the others replay it)."""


def check_after_test(item: pytest.Item, test: TestContext | None, budget: pytest.Mark | None, *, strict: bool) -> None:
    """Once the test body passed: its cassette's health, its budget, then how it grew and
    drifted from the committed cassette."""
    if test is not None and test.cassette is not None:
        rerecord = record_commands(item.nodeid)[1]
        check_cassette(test.cassette, item, strict=strict, rerecord_command=rerecord)
    limits = parse_budget(budget) if budget is not None else {}
    if budget is not None:
        check_budget(context_for(item).tracker, budget, item.nodeid, limits)
    if test is None or test.cassette is None:
        return
    settings = item.config.stash[STATE].drift
    if "regression" in limits and budget is not None:  # the marker's, None included (off)
        ratio, source = limits["regression"], _shown(budget)
    else:
        ratio, source = settings.regression, f"ini pyagent_trace_cost_regression = {settings.regression}"
    if ratio is not None:
        check_regression(test, ratio, source, item.nodeid)
    check_drift(test, settings.fail, item.nodeid)


def check_regression(test: TestContext, ratio: float, source: str, nodeid: str) -> None:
    """Fail a re-recorded or checked test whose cost or tokens grew more than ``ratio``
    over the committed cassette, naming the agents and models that grew."""
    cassette = test.cassette
    before = cassette.before if cassette is not None and cassette.mode in _REGRESSING else None
    if cassette is None or not before:
        return
    from pyagent_trace.drift import cost_regression

    growth = cost_regression(before, cassette.after, ratio)
    if not growth:
        return
    if cassette.mode is RecordMode.CHECK:
        what = f"Nothing was written (record mode check). Expected? Re-record with: {rerecord_command(nodeid)}"
    else:
        what = (
            f"The re-recorded cassette {cassette.display_path} was written: review it (pyagent-trace diff, "
            f"git diff --word-diff) or restore it with: git checkout -- {cassette.display_path}"
        )
    msg = "\n".join(
        [
            f"{nodeid}: cost regression over the committed cassette {cassette.display_path} (limit: {source}):",
            *growth,
            f"{what}. Raise the ratio if the growth is intended.",
        ]
    )
    pytest.fail(msg, pytrace=False)


def check_drift(test: TestContext, level: str, nodeid: str) -> None:
    """Record mode check: fail a test whose drift crosses ``pyagent_trace_drift_fail``."""
    drift = test.drift()
    if drift is None or not drift.crosses(level) or test.cassette is None:
        return
    msg = "\n".join(
        [
            f"{nodeid}: its live calls drifted from {test.cassette.display_path} "
            f"(pyagent_trace_drift_fail = {level}): {drift_headline(drift.to_dict())}",
            *drift.diff,
            f"Expected? Re-record just this test with: {rerecord_command(nodeid)}",
        ]
    )
    pytest.fail(msg, pytrace=False)


def check_cassette(cassette: Cassette, item: pytest.Item, *, strict: bool, rerecord_command: str) -> None:
    if cassette.errors:
        pytest.fail(f"{cassette.errors[0]}\n(The code under test caught this error and went on.)", pytrace=False)
    unused = cassette.unused_calls()
    if not unused:
        return
    agents = ", ".join(sorted({e.agent_name for e in unused}))
    msg = (
        f"{len(unused)} recorded calls in {cassette.path} were never used (agents: {agents}). "
        f"Re-record with: {rerecord_command}"
    )
    if strict:
        pytest.fail(msg + " (--strict-cassettes)", pytrace=False)
    try:  # attributed to the test's line in the warnings summary
        warnings.warn_explicit(msg, PyAgentTraceWarning, str(item.path), (item.location[1] or 0) + 1)
    except PyAgentTraceWarning:  # -W error: a failure with the message, not a plugin traceback
        pytest.fail(msg, pytrace=False)


def _shown(marker: pytest.Mark) -> str:
    given = ", ".join([*map(repr, marker.args), *(f"{k}={v!r}" for k, v in marker.kwargs.items())])
    return f"@pytest.mark.cost_budget({given})"


def parse_budget(marker: pytest.Mark) -> dict[str, Any]:
    """``cost_budget(usd=None, tokens=None, calls=None, *, regression=None)``'s limits,
    positional or named; ``regression`` is checked here (a number above 1.0, or None: off)."""
    unknown = sorted(set(marker.kwargs) - set(_ARGS))
    if len(marker.args) > len(_LIMITS) or unknown:
        what = f"unknown argument {unknown[0]!r}" if unknown else "too many arguments"
        pytest.fail(f"{_shown(marker)}: {what}; give usd=, tokens=, calls= and/or regression=.", pytrace=False)
    limits = dict(zip(_LIMITS, marker.args, strict=False))
    twice = sorted(set(limits) & set(marker.kwargs))
    if twice:
        pytest.fail(f"{_shown(marker)}: {twice[0]} is given twice.", pytrace=False)
    limits |= marker.kwargs
    failure = ""
    if limits.get("regression") is not None:
        from pyagent_trace.drift import check_ratio

        try:
            limits["regression"] = check_ratio(limits["regression"], "regression")
        except ConfigError as err:
            failure = f"{_shown(marker)}: {err}"
    if failure:  # outside the except block: no "During handling of..." chain in the report
        pytest.fail(failure, pytrace=False)
    return limits


def check_budget(tracker: CostTracker, marker: pytest.Mark, nodeid: str, limits: dict[str, Any] | None = None) -> None:
    """Fail the test when it spent over the marker's limits (``limits``: the marker already parsed)."""
    limits = parse_budget(marker) if limits is None else limits
    spend = {name: limit for name, limit in limits.items() if name in _LIMITS}
    if not spend and "regression" in limits:  # a regression limit alone: nothing to spend against
        return
    failure = ""
    try:
        tracker.assert_under(**spend)
    except BudgetExceededError as err:
        failure = f"{nodeid}: {err}"
    except (PyAgentTraceError, TypeError) as err:  # no limit, or a limit that is not a number
        failure = f"{_shown(marker)}: {err}"
    if failure:  # outside the except block: no "During handling of..." chain in the report
        pytest.fail(failure, pytrace=False)
