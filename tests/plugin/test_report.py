"""The end-of-run summary (mode, cassettes, calls, refused connections, spend, top tests,
problems with their remedy) and the --cost-report JSON with the same numbers."""

from __future__ import annotations

import json

from plugin_testing import run

# Each call reports 1,000 + 500 tokens: $0.00045 with gpt-4o-mini.
COSTS = """
    import pytest
    from fake_llm import FakeLLM, ask

    USAGE = {"input_tokens": 1000, "output_tokens": 500}

    @pytest.mark.parametrize("calls", [1, 2, 3, 4, 5, 6])
    async def test_calls(cassette, calls):
        llm = cassette.llm(FakeLLM(usage=USAGE), agent_name="planner")
        for n in range(calls):
            await llm(ask(f"step {n}"))

    def test_plain():
        pass
"""


def test_summary_after_recording_adds_up_calls_spend_and_top_tests(project):
    """After recording, the summary counts cassettes and calls, totals the spend and lists the 5 costliest tests."""
    project.makepyfile(test_costs=COSTS)

    result = run(project, "--record-mode=once")

    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(
        [
            "*-- pyagent-trace --*",
            "mode once: 6 cassettes used, 6 written, 0 missing; 0 calls replayed, 21 recorded; "
            "0 network connections refused",
            "spend: $0.00945 over 31,500 tokens in 6 tests (21 recorded calls paid for)",
            "most expensive tests (top 5):",
            "   $0.0027  test_costs.py::test_calls?6?",
            "  $0.00225  test_costs.py::test_calls?5?",
            "   $0.0018  test_costs.py::test_calls?4?",
            "  $0.00135  test_costs.py::test_calls?3?",
            "   $0.0009  test_costs.py::test_calls?2?",
        ]
    )
    result.stdout.no_fnmatch_line("*test_calls?1?*")
    result.stdout.no_fnmatch_line("*test_plain*")


def test_summary_after_replay_says_nothing_was_spent(project, monkeypatch):
    """A replay run reports the calls replayed and the cost they stand for, with nothing paid."""
    project.makepyfile(test_costs=COSTS)
    run(project, "--record-mode=once").assert_outcomes(passed=7)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")

    result = run(project)

    result.stdout.fnmatch_lines(
        [
            "mode none: 6 cassettes used, 0 written, 0 missing; 21 calls replayed, 0 recorded; "
            "0 network connections refused",
            "spend: $0.00945 over 31,500 tokens in 6 tests (replayed, nothing spent)",
        ]
    )


def test_no_summary_when_no_test_used_the_plugin(project):
    """A run that used none of the plugin prints no pyagent-trace section."""
    project.makepyfile(test_plain="def test_plain():\n    pass\n")

    result = run(project)

    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*-- pyagent-trace --*")


def test_missing_cassettes_are_listed_with_the_record_command(project):
    """Cassettes missing in replay are named once in the summary with the option that records them."""
    project.makepyfile(test_costs=COSTS.replace("[1, 2, 3, 4, 5, 6]", "[1, 2]"))

    result = run(project)

    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "mode none: 0 cassettes used, 0 written, 2 missing;*",
            "2 cassettes missing: cassettes/test_costs/test_calls?1?.jsonl, "
            "cassettes/test_costs/test_calls?2?.jsonl. Record them with --record-mode=once.",
        ]
    )


def test_unpriced_models_are_called_out_with_the_fix(project):
    """Calls to a model with no price are counted as unknown cost, and the summary says how to price them."""
    project.makepyfile(
        test_house="""
        from fake_llm import FakeLLM, ask

        async def test_house(cassette):
            await cassette.llm(FakeLLM(), agent_name="a", model="house-model")(ask("hi"))
        """
    )

    result = run(project, "--record-mode=once", "-W", "ignore::pyagent_trace.exceptions.PyAgentTraceWarning")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "1 calls used models with no price: their cost is unknown, not $0. "
            "Add prices by overriding the pyagent_trace_prices fixture."
        ]
    )


def test_cost_report_json_holds_totals_and_one_entry_per_test(project):
    """--cost-report writes the mode, the totals and each plugin-using test's numbers, sorted by node id."""
    project.makepyfile(test_costs=COSTS.replace("[1, 2, 3, 4, 5, 6]", "[1, 2]"))

    run(project, "--record-mode=once", "--cost-report=reports/cost.json").assert_outcomes(passed=3)

    report = json.loads((project.path / "reports/cost.json").read_text())
    assert report["mode"] == "once"
    assert report["stale_cassettes"] == []
    assert report["totals"] == {
        "cassettes_used": 2,
        "cassettes_written": 2,
        "cassettes_missing": [],
        "tests_without_calls": [],
        "calls_replayed": 0,
        "calls_recorded": 3,
        "unused_calls": 0,
        "connections_refused": 0,
        "cost_usd": 0.00135,
        "tokens": 4500,
        "unpriced_calls": 0,
    }
    assert [t["nodeid"] for t in report["tests"]] == ["test_costs.py::test_calls[1]", "test_costs.py::test_calls[2]"]
    second = report["tests"][1]
    assert second["cassette"] == "cassettes/test_costs/test_calls[2].jsonl"
    assert (second["mode"], second["written"], second["calls_recorded"], second["tokens"]) == ("once", True, 2, 3000)
    assert second["cost_usd"] == 0.0009


def test_cost_report_is_written_even_when_tests_fail(project):
    """The JSON report is written for failing runs too, with the missing cassettes named."""
    project.makepyfile(test_costs=COSTS.replace("[1, 2, 3, 4, 5, 6]", "[1]"))

    run(project, "--cost-report=cost.json").assert_outcomes(failed=1, passed=1)

    report = json.loads((project.path / "cost.json").read_text())
    assert report["totals"]["cassettes_missing"] == ["cassettes/test_costs/test_calls[1].jsonl"]
