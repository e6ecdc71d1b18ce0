"""What the plugin checks once a test body passed: replay errors the code swallowed,
recorded calls it never made, and its cost budget. Each failure is the test's own,
reported with ``pytest.fail(..., pytrace=False)``: the message is the whole story.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest

from pyagent_trace.exceptions import BudgetExceededError, PyAgentTraceError, PyAgentTraceWarning
from pytest_pyagent_trace._context import TestContext, context_for, record_commands

if TYPE_CHECKING:
    from pyagent_trace.cassette import Cassette
    from pyagent_trace.cost import CostTracker

__all__ = ["check_after_test", "check_budget", "check_cassette", "parse_budget"]

_LIMITS = ("usd", "tokens", "calls")


def check_after_test(item: pytest.Item, test: TestContext | None, budget: pytest.Mark | None, *, strict: bool) -> None:
    """Once the test body passed: its cassette's health, then its budget."""
    if test is not None and test.cassette is not None:
        rerecord = record_commands(item.nodeid)[1]
        check_cassette(test.cassette, item, strict=strict, rerecord_command=rerecord)
    if budget is not None:
        check_budget(context_for(item).tracker, budget, item.nodeid)


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
    """``cost_budget(usd=None, tokens=None, calls=None)``'s limits, positional or named."""
    unknown = sorted(set(marker.kwargs) - set(_LIMITS))
    if len(marker.args) > len(_LIMITS) or unknown:
        what = f"unknown argument {unknown[0]!r}" if unknown else "too many arguments"
        pytest.fail(f"{_shown(marker)}: {what}; give usd=, tokens= and/or calls=.", pytrace=False)
    limits = dict(zip(_LIMITS, marker.args, strict=False))
    twice = sorted(set(limits) & set(marker.kwargs))
    if twice:
        pytest.fail(f"{_shown(marker)}: {twice[0]} is given twice.", pytrace=False)
    return {**limits, **marker.kwargs}


def check_budget(tracker: CostTracker, marker: pytest.Mark, nodeid: str) -> None:
    limits = parse_budget(marker)
    failure = ""
    try:
        tracker.assert_under(**limits)
    except BudgetExceededError as err:
        failure = f"{nodeid}: {err}"
    except (PyAgentTraceError, TypeError) as err:  # no limit, or a limit that is not a number
        failure = f"{_shown(marker)}: {err}"
    if failure:  # outside the except block: no "During handling of..." chain in the report
        pytest.fail(failure, pytrace=False)
