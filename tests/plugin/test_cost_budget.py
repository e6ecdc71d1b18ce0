"""Cost budgets: @pytest.mark.cost_budget(usd=, tokens=, calls=) and cost_tracker.assert_under
fail the test itself with a breakdown by agent and model; the tracker sees every cassette call."""

from __future__ import annotations

import pytest
from plugin_testing import run

# Every call reports 1,000 input + 500 output tokens: $0.00045 with gpt-4o-mini ($0.15 / $0.60 per 1M).
TWO_AGENTS = """
    import pytest
    from fake_llm import FakeLLM, ask

    USAGE = {{"input_tokens": 1000, "output_tokens": 500}}

    {marker}
    async def test_debate(cassette{extra}):
        bull = cassette.llm(FakeLLM(usage=USAGE), agent_name="bull")
        bear = cassette.llm(FakeLLM(usage=USAGE), agent_name="bear")
        await bull(ask("buy?"))
        await bear(ask("sell?"))
        await bull(ask("sure?"))
        {body}
"""


def debate(marker: str = "", body: str = "", extra: str = "") -> str:
    return TWO_AGENTS.format(marker=marker, body=body, extra=extra)


def test_budget_over_usd_fails_the_test_with_a_breakdown_by_agent_and_model(project):
    """Spending $0.00135 under usd=0.001 is the test's failure (not a teardown error), no traceback."""
    project.makepyfile(test_debate=debate("@pytest.mark.cost_budget(usd=0.001)"))

    result = run(project, "--record-mode=once")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_debate.py::test_debate: Budget exceeded:",
            "  usd: spent $0.00135 > limit $0.001",
            "LLM cost: $0.00135 over 3 calls (3,000 input + 1,500 output tokens)",
            "  by agent:",
            "    bull  $0.0009",
            "    bear  $0.00045",
            "  by model:",
            "    gpt-4o-mini  $0.00135",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*plugin.py*")


def test_budget_counts_replayed_calls_so_replay_enforces_it_for_free(project, monkeypatch):
    """Replayed calls carry their recorded cost: the same budget fails in replay, without an API call."""
    project.makepyfile(test_debate=debate())
    run(project, "--record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(test_debate=debate("@pytest.mark.cost_budget(usd=0.001)"))
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")

    result = run(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  usd: spent $0.00135 > limit $0.001"])


def test_budget_within_limits_passes(project):
    """A test under every limit passes; positional usd works like the registered signature says."""
    project.makepyfile(test_debate=debate("@pytest.mark.cost_budget(0.01, tokens=5000, calls=3)"))

    run(project, "--record-mode=once").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("limits", "line"),
    [
        ("tokens=4000", "  tokens: spent 4,500 > limit 4,000"),
        ("calls=2", "  calls: spent 3 > limit 2"),
    ],
    ids=["tokens", "calls"],
)
def test_token_and_call_limits(project, limits, line):
    """tokens= and calls= limits fail the test naming what was spent against the limit."""
    project.makepyfile(test_debate=debate(f"@pytest.mark.cost_budget({limits})"))

    result = run(project, "--record-mode=once")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([line])


def test_budget_on_a_class_applies_to_its_methods(project):
    """A class-level cost_budget marker limits each method."""
    project.makepyfile(
        test_debate="""
        import pytest
        from fake_llm import FakeLLM, ask

        @pytest.mark.cost_budget(calls=1)
        class TestBudget:
            async def test_one_call(self, cassette):
                await cassette.llm(FakeLLM(), agent_name="a")(ask("one"))

            async def test_two_calls(self, cassette):
                llm = cassette.llm(FakeLLM(), agent_name="a")
                await llm(ask("one"))
                await llm(ask("two"))
        """
    )

    result = run(project, "--record-mode=once")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*TestBudget::test_two_calls: Budget exceeded:", "  calls: spent 2 > limit 1"])


def test_assert_under_in_the_test_fails_cleanly_with_the_breakdown(project):
    """cost_tracker.assert_under(usd=) inside the test fails it with the same breakdown, no traceback."""
    project.makepyfile(test_debate=debate(body="cost_tracker.assert_under(usd=0.0005)", extra=", cost_tracker"))

    result = run(project, "--record-mode=once")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["Budget exceeded:", "  usd: spent $0.00135 > limit $0.0005", "  by agent:"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_cost_tracker_sees_every_cassette_call_recorded_or_replayed(project, monkeypatch):
    """The cost_tracker fixture holds each call's agent, model, tokens and cost, in both modes."""
    check = "\n        ".join(
        [
            "assert cost_tracker.call_count == 3",
            'assert cost_tracker.tokens_by_agent() == {"bull": 3000, "bear": 1500}',
            'assert cost_tracker.by_model() == {"gpt-4o-mini": pytest.approx(0.00135)}',
        ]
    )
    project.makepyfile(test_debate=debate(body=check, extra=", cost_tracker"))

    run(project, "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
    run(project).assert_outcomes(passed=1)


def test_prices_fixture_override_prices_a_custom_model(project):
    """Overriding pyagent_trace_prices prices a model the built-in table lacks, in the cassette and the tracker."""
    project.makeconftest(
        """
        import pytest

        @pytest.fixture
        def pyagent_trace_prices():
            return {"house-model": {"input": 1.0, "output": 2.0}}
        """
    )
    project.makepyfile(
        test_house="""
        from fake_llm import FakeLLM, ask

        async def test_house(cassette, cost_tracker):
            llm = cassette.llm(FakeLLM(usage={"input_tokens": 1000, "output_tokens": 1000}), agent_name="a",
                               model="house-model")
            await llm(ask("hi"))
            assert cassette.entries[0].cost_usd == 0.003
            assert cost_tracker.total_cost == 0.003
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)


def test_unpriced_model_under_warnings_as_errors_fails_saying_how_to_price_it(project):
    """With -W error a call to a model with no price fails the test cleanly, pointing at the prices fixture."""
    project.makepyfile(
        test_house="""
        from fake_llm import FakeLLM, ask

        async def test_house(cassette):
            await cassette.llm(FakeLLM(), agent_name="a", model="house-model")(ask("hi"))
        """
    )

    result = run(project, "--record-mode=once")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["No price for model 'house-model'*override the pyagent_trace_prices fixture*"])
    result.stdout.no_fnmatch_line("*Traceback*")


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("cost_budget(dollars=1)", "@pytest.mark.cost_budget(dollars=1): unknown argument 'dollars'*"),
        ("cost_budget(usd='cheap')", "@pytest.mark.cost_budget(usd='cheap'): usd='cheap': give a number, or None."),
        ("cost_budget()", "@pytest.mark.cost_budget(): assert_under() needs at least one limit*"),
        ("cost_budget(0.1, usd=0.2)", "@pytest.mark.cost_budget(0.1, usd=0.2): usd is given twice."),
    ],
    ids=["unknown-argument", "not-a-number", "no-limit", "given-twice"],
)
def test_bad_budget_marker_is_a_clean_failure(project, marker, message):
    """A cost_budget marker with arguments the plugin cannot use fails the test saying which and why."""
    project.makepyfile(
        test_budget=f"""
        import pytest

        @pytest.mark.{marker}
        def test_budget():
            pass
        """
    )

    result = run(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])
    result.stdout.no_fnmatch_line("*Traceback*")
