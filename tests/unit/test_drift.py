"""Drift and cost regressions, as pure computations over two lists of cassette entries."""

from __future__ import annotations

import dataclasses

import pytest

from pyagent_trace._recording import RecordEntry
from pyagent_trace.drift import check_ratio, compute_drift, cost_regression
from pyagent_trace.exceptions import ConfigError


def call(agent: str, prompt: str, reply: str, tokens: tuple[int, int] = (100, 50), cost: float = 0.001) -> RecordEntry:
    return RecordEntry(
        "llm_call", agent_name=agent, model="gpt-4o-mini", input_tokens=tokens[0], output_tokens=tokens[1],
        tokens=sum(tokens), cost_usd=cost, messages=[{"role": "user", "content": prompt}], response=reply,
    )  # fmt: skip


BEFORE = [call("writer", "draft", "A short draft."), call("critic", "judge it", "Fine.")]


def test_the_same_calls_again_are_no_drift_whatever_their_times():
    after = [dataclasses.replace(e, timestamp=99.0, duration_ms=1234.0) for e in BEFORE]

    drift = compute_drift(BEFORE, after)

    assert not drift.drifted
    assert (drift.added, drift.removed, drift.changed) == (0, 0, 0)
    assert drift.diff == ()
    assert not drift.crosses("text")


def test_a_changed_response_is_a_text_diff_with_tokens_and_usd_before_and_after():
    after = [call("writer", "draft", "A much longer draft.", (100, 80), 0.0015), BEFORE[1]]

    drift = compute_drift(BEFORE, after)

    assert drift.drifted
    assert (drift.added, drift.removed, drift.changed, drift.requests_changed, drift.responses_changed) == (
        0, 0, 1, 0, 1,
    )  # fmt: skip
    assert (drift.before.tokens, drift.after.tokens) == (300, 330)
    assert (drift.before.cost_usd, drift.after.cost_usd) == (0.002, 0.0025)
    assert drift.diff == (  # pyagent-trace diff's lines: one diff mechanism
        "agent writer: 1 call changed",
        "  ~ call 1 changed",
        "    response changed:",
        "      --- cassette",
        "      +++ live",
        "      @@ -1 +1 @@",
        "      -A short draft.",
        "      +A much longer draft.",
        "    tokens: 100→50 → 100→80 (+30)",
        "    cost: $0.00100 → $0.00150 (+$0.00050)",
    )
    # a new answer is not a new question: only the text level fails on it
    assert (drift.crosses("none"), drift.crosses("calls"), drift.crosses("text")) == (False, False, True)
    data = drift.to_dict()
    assert data["before"]["cost_usd"] == 0.002
    assert data["after"]["tokens"] == 330
    assert data["diff"] == list(drift.diff)


def test_added_and_removed_calls_and_a_changed_prompt_cross_the_calls_level():
    added = compute_drift(BEFORE, [*BEFORE, call("critic", "again?", "Yes.")])
    asked = compute_drift(BEFORE, [call("writer", "draft it twice", "A short draft."), BEFORE[1]])

    assert (added.added, added.removed) == (1, 0)
    assert asked.requests_changed == 1
    assert added.crosses("calls")
    assert asked.crosses("calls")


def test_no_committed_cassette_makes_every_live_call_added():
    drift = compute_drift(None, BEFORE)

    assert not drift.baseline
    assert drift.added == 2
    assert drift.before.calls == 0


def test_cost_regression_names_the_agent_and_model_that_grew_past_the_ratio():
    after = [call("writer", "draft", "Longer.", (200, 100), 0.002), BEFORE[1]]

    lines = cost_regression(BEFORE, after, 1.2)

    assert lines == [
        "cost and tokens grew more than 1.2x over the committed cassette:",
        "  total: $0.00200 → $0.00300 (1.50x), tokens 300 → 450 (1.50x)",
        "  agent 'writer', model gpt-4o-mini: $0.00100 → $0.00200 (2.00x), tokens 150 → 300 (2.00x)",
    ]


def test_growth_within_the_ratio_and_an_empty_baseline_are_no_regression():
    after = [call("writer", "draft", "Longer.", (110, 50), 0.0011), BEFORE[1]]

    assert cost_regression(BEFORE, after, 1.2) == []
    assert cost_regression([], BEFORE, 1.2) == []


@pytest.mark.parametrize("value", [1.0, 0.5, True, "1.2", float("inf"), None])
def test_a_ratio_must_be_a_number_above_one(value):
    with pytest.raises(ConfigError, match=r"regression=.*above 1\.0"):
        check_ratio(value, "regression")


def test_the_run_summary_lists_drifted_tests_with_one_command_that_re_records_just_them():
    """12 drifted tests: each has its headline, the first 10 their diff, and one command names all 12."""
    from pytest_pyagent_trace._summary import SessionReport, TestUsage

    report = SessionReport("check")
    changed = compute_drift(BEFORE, [call("writer", "draft", "New.", (100, 60)), BEFORE[1]]).to_dict()
    for n in range(12):
        report.add(TestUsage(f"t.py::test_{n:02}", mode="check", cassette=f"c{n}.jsonl", drift=changed))
    report.add(
        TestUsage("t.py::test_same", mode="check", cassette="same.jsonl", drift=compute_drift(BEFORE, BEFORE).to_dict())
    )

    lines = report.lines()

    assert "drift: 12 of 13 checked tests differ from their cassettes:" in lines
    assert "  t.py::test_00: 1 call changed; tokens 300 → 310; $0.002 → $0.002" in lines
    assert lines.count("      agent writer: 1 call changed") == 10
    assert "  (diffs of the first 10 tests shown; all of them are in --cost-report)" in lines
    command = " ".join(f"t.py::test_{n:02}" for n in range(12))
    assert (
        lines[-1]
        == f"Review the diffs; to accept them, re-record just these tests with: pytest --record-mode=all {command}"
    )
    assert report.totals()["tests_drifted"] == [f"t.py::test_{n:02}" for n in range(12)]
