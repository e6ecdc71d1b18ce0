"""Record modes with vcrpy's meanings: none (default) replays, once records a missing
cassette, new adds missing calls, all re-records; flags, ini and marker pick the mode."""

from __future__ import annotations

import pytest
from plugin_testing import calls_in, run, write_ini

TWO_CALLS = """
    from fake_llm import FakeLLM, ask

    async def test_plan(cassette):
        llm = cassette.llm(FakeLLM(), agent_name="planner")
        assert await llm(ask("plan a trip")) == "reply: plan a trip"
        assert await llm(ask("book it")) == "reply: book it"
"""

CASSETTE = "cassettes/test_trip/test_plan.jsonl"


@pytest.fixture
def recorded(project: pytest.Pytester) -> pytest.Pytester:
    """A project whose test_plan was recorded once."""
    project.makepyfile(test_trip=TWO_CALLS)
    run(project, "--record-mode=once").assert_outcomes(passed=1)
    return project


def test_default_mode_replays_the_cassette_without_calling_the_llm(recorded, forbid_llm):
    """With no option the mode is none: recorded calls are replayed and the real LLM is never reached."""
    before = (recorded.path / CASSETTE).read_bytes()

    result = run(recorded)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*mode none: 1 cassettes used, 0 written, 0 missing; 2 calls replayed, 0 recorded*"])
    assert (recorded.path / CASSETTE).read_bytes() == before


def test_once_records_a_missing_cassette_with_every_call(recorded):
    """Mode once writes cassettes/<module>/<test>.jsonl holding each call's messages, response, model and usage."""
    calls = calls_in(recorded.path / CASSETTE)

    assert [(c["agent_name"], c["messages"], c["response"]) for c in calls] == [
        ("planner", [{"role": "user", "content": "plan a trip"}], "reply: plan a trip"),
        ("planner", [{"role": "user", "content": "book it"}], "reply: book it"),
    ]
    assert {c["model"] for c in calls} == {"gpt-4o-mini"}
    assert all(c["tokens_estimated"] and c["tokens"] > 0 and c["cost_usd"] > 0 for c in calls)
    assert all(c["duration_ms"] >= 0 for c in calls)
    assert len({tuple(c) for c in calls}) == 1  # every line has the same keys in the same order


def test_once_replays_a_cassette_that_exists(recorded, forbid_llm):
    """Mode once leaves an existing cassette alone and replays it."""
    before = (recorded.path / CASSETTE).read_bytes()

    result = run(recorded, "--record-mode=once")

    result.assert_outcomes(passed=1)
    assert (recorded.path / CASSETTE).read_bytes() == before


def test_new_replays_recorded_calls_and_records_only_the_missing_ones(recorded):
    """Mode new keeps the recorded calls, replays them and appends the calls the cassette lacks."""
    recorded.makepyfile(
        test_trip="""
        from fake_llm import FakeLLM, ask

        async def test_plan(cassette):
            fake = FakeLLM()
            llm = cassette.llm(fake, agent_name="planner")
            await llm(ask("plan a trip"))
            await llm(ask("book it"))
            await llm(ask("pay"))
            assert fake.calls == 1
            assert (cassette.calls_replayed, cassette.calls_recorded) == (2, 1)
        """
    )

    result = run(recorded, "--record-mode=new")

    result.assert_outcomes(passed=1)
    contents = [c["messages"][0]["content"] for c in calls_in(recorded.path / CASSETTE)]
    assert contents == ["plan a trip", "book it", "pay"]


def test_new_records_a_cassette_that_does_not_exist(project):
    """Mode new on a test without a cassette records all its calls."""
    project.makepyfile(test_trip=TWO_CALLS)

    result = run(project, "--record-mode=new")

    result.assert_outcomes(passed=1)
    assert len(calls_in(project.path / CASSETTE)) == 2


def test_record_flag_rerecords_every_call(recorded, monkeypatch):
    """--record (mode all) calls the real LLM again and replaces the cassette's responses."""
    monkeypatch.setenv("FAKE_LLM_VERSION", "2")
    recorded.makepyfile(test_trip=TWO_CALLS.replace("reply:", "reply2:"))

    result = run(recorded, "--record")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*mode all: 1 cassettes used, 1 written*2 recorded*"])
    assert [c["response"] for c in calls_in(recorded.path / CASSETTE)] == ["reply2: plan a trip", "reply2: book it"]


def test_rerecording_unchanged_behaviour_writes_identical_bytes(recorded):
    """A re-record whose calls did not change keeps each entry's timestamp and duration: the file is byte-identical."""
    before = (recorded.path / CASSETTE).read_bytes()

    run(recorded, "--record").assert_outcomes(passed=1)

    assert (recorded.path / CASSETTE).read_bytes() == before


def test_replay_flag_overrides_the_ini_mode(project):
    """--replay (mode none) wins over the ini option, so a missing cassette fails instead of being recorded."""
    write_ini(project, "pyagent_trace_record_mode = once")
    project.makepyfile(test_trip=TWO_CALLS)

    result = run(project, "--replay")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Cassette * does not exist*"])
    assert not (project.path / CASSETTE).exists()


def test_ini_record_mode_applies_without_a_flag(project):
    """The ini option pyagent_trace_record_mode sets the session's mode."""
    write_ini(project, "pyagent_trace_record_mode = once")
    project.makepyfile(test_trip=TWO_CALLS)

    run(project).assert_outcomes(passed=1)

    assert len(calls_in(project.path / CASSETTE)) == 2


def test_marker_record_mode_overrides_the_session_mode(project):
    """@pytest.mark.cassette(record_mode="once") records that test even in the default replay-only session."""
    project.makepyfile(
        test_trip="""
        import pytest
        from fake_llm import FakeLLM, ask

        @pytest.mark.cassette(record_mode="once")
        async def test_marked(cassette):
            assert cassette.mode == "once"
            await cassette.llm(FakeLLM(), agent_name="planner")(ask("hi"))

        async def test_unmarked(cassette):
            assert cassette.mode == "none"
        """
    )

    run(project).assert_outcomes(passed=2)

    assert (project.path / "cassettes/test_trip/test_marked.jsonl").exists()
    assert not (project.path / "cassettes/test_trip/test_unmarked.jsonl").exists()


def test_cassette_fixture_reports_mode_path_entries_and_counts(project):
    """cassette.mode, .path, .entries, .calls_recorded and .calls_replayed describe the test's cassette."""
    project.makepyfile(
        test_trip="""
        from pathlib import Path
        from fake_llm import FakeLLM, ask

        async def test_plan(cassette, request):
            expected = Path(request.path).parent / "cassettes" / "test_trip" / "test_plan.jsonl"
            assert cassette.path == expected
            llm = cassette.llm(FakeLLM(), agent_name="planner")
            await llm(ask("one"))
            await llm(ask("two"))
            assert [e.response for e in cassette.entries] == ["reply: one", "reply: two"]
            if cassette.mode == "once":
                assert (cassette.calls_recorded, cassette.calls_replayed) == (2, 0)
            else:
                assert (cassette.calls_recorded, cassette.calls_replayed) == (0, 2)
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)
    run(project).assert_outcomes(passed=1)


def test_the_real_llm_gets_the_messages_object_unchanged(project):
    """In recording modes the wrapped callable receives exactly the object the agent passed."""
    project.makepyfile(
        test_trip="""
        from fake_llm import ask

        async def test_plan(cassette):
            seen = []

            async def real(messages):
                seen.append(messages)
                return "ok"

            messages = ask("hi")
            await cassette.llm(real, agent_name="planner", model="gpt-4o-mini")(messages)
            assert seen[0] is messages
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)


def test_reported_usage_is_recorded_as_exact_tokens(project):
    """A reply with usage keeps those token counts and is not flagged tokens_estimated."""
    project.makepyfile(
        test_trip="""
        from fake_llm import FakeLLM, ask

        async def test_plan(cassette):
            llm = cassette.llm(FakeLLM(usage={"prompt_tokens": 1000, "completion_tokens": 500}), agent_name="p")
            assert await llm(ask("hi")) == "reply: hi"
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)

    [call] = calls_in(project.path / CASSETTE)
    assert (call["input_tokens"], call["output_tokens"], call["tokens_estimated"]) == (1000, 500, False)
    assert call["cost_usd"] == pytest.approx(0.00045)  # gpt-4o-mini: $0.15 / $0.60 per 1M tokens


def test_sync_test_records_and_replays(project, monkeypatch):
    """A plain (non-async) test can drive the cassette's LLM with asyncio.run."""
    project.makepyfile(
        test_trip="""
        import asyncio
        from fake_llm import FakeLLM, ask

        def test_plan(cassette):
            llm = cassette.llm(FakeLLM(), agent_name="planner")
            assert asyncio.run(llm(ask("hi"))) == "reply: hi"
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
    run(project).assert_outcomes(passed=1)


def test_cassette_is_written_once_when_the_test_ends(project):
    """Nothing is on disk while the test runs; the file appears when it finishes."""
    project.makepyfile(
        test_trip="""
        from fake_llm import FakeLLM, ask

        async def test_plan(cassette):
            await cassette.llm(FakeLLM(), agent_name="planner")(ask("hi"))
            assert not cassette.path.exists()
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)

    assert len(calls_in(project.path / CASSETTE)) == 1


def test_test_that_errors_before_any_call_writes_no_cassette(project):
    """A recording test that fails before its first LLM call leaves no (empty) cassette behind."""
    project.makepyfile(
        test_trip="""
        from fake_llm import FakeLLM

        async def test_plan(cassette):
            cassette.llm(FakeLLM(), agent_name="planner")
            raise RuntimeError("broken before calling")
        """
    )

    run(project, "--record-mode=all").assert_outcomes(failed=1)

    assert not (project.path / "cassettes").exists()


def test_a_call_recorded_by_a_test_that_then_fails_its_budget_is_written_once(project):
    """Mode new, one new call, then assert_under(calls=0) fails: the cassette holds that call once."""
    project.makepyfile(
        test_budget="""
        from fake_llm import FakeLLM, ask

        async def test_over(cassette, cost_tracker):
            await cassette.llm(FakeLLM(), agent_name="planner")(ask("plan"))
            cost_tracker.assert_under(calls=0)
        """
    )

    run(project, "--record-mode=new").assert_outcomes(failed=1)

    assert len(calls_in(project.path / "cassettes/test_budget/test_over.jsonl")) == 1
