"""Replay failures read as one clear message (what, which call, a diff, the command that
fixes it), never as a traceback through the plugin; unused calls warn, or fail when strict."""

from __future__ import annotations

import pytest
from plugin_testing import run

PLAN = """
    from fake_llm import FakeLLM, ask

    async def test_plan(cassette):
        llm = cassette.llm(FakeLLM(), agent_name="{agent}")
        for text in {texts!r}:
            await llm(ask(text))
"""


WARNING = "pyagent_trace.exceptions.PyAgentTraceWarning"


def plan(*texts: str, agent: str = "planner") -> str:
    return PLAN.format(agent=agent, texts=list(texts))


@pytest.fixture
def recorded(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """test_plan recorded with two calls of agent planner; afterwards the fake LLM refuses calls."""
    project.makepyfile(test_trip=plan("plan a trip to Rome", "book the hotel"))
    run(project, "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
    return project


def test_missing_cassette_names_the_path_and_the_command_that_records_it(project):
    """In mode none a missing cassette fails the test with its path and a ready-to-run record command."""
    project.makepyfile(test_trip=plan("hi"))

    result = run(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Cassette */cassettes/test_trip/test_plan.jsonl does not exist, and record mode 'none' only replays.",
            "Record it with: pytest --record-mode=once test_trip.py::test_plan",
            "*1 cassettes missing: cassettes/test_trip/test_plan.jsonl. Record them with --record-mode=once.",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*_cassette.py*")


def test_test_without_its_part_of_a_shared_cassette_says_how_to_record_it(project, monkeypatch):
    """In mode none, a test whose calls are not in the shared cassette it names fails saying so."""
    project.makepyfile(
        test_trip="""
        import pytest
        from fake_llm import FakeLLM, ask

        pytestmark = pytest.mark.cassette("shared.jsonl")

        async def test_one(cassette):
            await cassette.llm(FakeLLM(), agent_name="planner")(ask("one"))
        """
    )
    run(project, "--record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(
        test_trip=(project.path / "test_trip.py").read_text() + "\nasync def test_two(cassette):\n"
        "    await cassette.llm(FakeLLM(), agent_name='planner')(ask('two'))\n"
    )
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")

    result = run(project)

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "Shared cassette */shared.jsonl holds no calls recorded by test_trip.py::test_two, "
            "and record mode 'none' only replays.",
            "Record it with: pytest --record-mode=once test_trip.py::test_two",
        ]
    )


def test_changed_call_shows_agent_call_number_and_a_diff_against_the_nearest(recorded):
    """A call whose messages were never recorded fails naming the agent and call, with a recorded/actual diff."""
    recorded.makepyfile(test_trip=plan("plan a trip to Rome", "book the hostel"))

    result = run(recorded)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "ReplayLLM for agent 'planner' (recording */test_plan.jsonl): call #2 matches no recorded call;"
            " nearest is recorded call #2:",
            "--- recorded",
            "+++ actual",
            "-user: book the hotel",
            "+user: book the hostel",
            "Re-record the cassette with: pytest --record test_trip.py::test_plan",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*During handling*")


def test_extra_call_says_the_recording_is_exhausted(recorded):
    """A call beyond the recorded ones says how many calls the cassette holds and what was asked."""
    recorded.makepyfile(test_trip=plan("plan a trip to Rome", "book the hotel", "pay"))

    result = run(recorded)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*agent 'planner'*call #3 has no recorded response; the recording holds 2 call(s).",
            "The call asked:",
            "    user: pay",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_unrecorded_agent_names_the_agents_that_were_recorded(recorded):
    """Asking for an agent the cassette never saw lists the agents it holds."""
    recorded.makepyfile(test_trip=plan("plan a trip to Rome", agent="critic"))

    result = run(recorded)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*has no calls for agent 'critic' (agents recorded: 'planner')*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_mode_once_does_not_record_new_calls_into_an_existing_cassette(recorded):
    """Mode once only records missing cassettes: a new call in an existing one is a replay error."""
    recorded.makepyfile(test_trip=plan("plan a trip to Rome", "book the hostel"))

    run(recorded, "--record-mode=once").assert_outcomes(failed=1)


def test_unused_recorded_calls_warn_and_name_the_rerecord_command(recorded):
    """A test that no longer makes a recorded call passes with a PyAgentTraceWarning saying how to refresh it."""
    recorded.makepyfile(test_trip=plan("plan a trip to Rome"))

    result = run(recorded, "-W", f"default::{WARNING}")

    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*PyAgentTraceWarning: 1 recorded calls in */test_plan.jsonl were never used (agents: planner). "
            "Re-record with: pytest --record test_trip.py::test_plan",
            "*1 recorded calls were never used by their tests. Re-run with --record*--strict-cassettes*",
        ]
    )


def test_unused_calls_warning_under_warnings_as_errors_fails_cleanly(recorded):
    """With -W error the unused-call warning fails the test with its message, not a plugin traceback."""
    recorded.makepyfile(test_trip=plan("plan a trip to Rome"))

    result = run(recorded)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 recorded calls in */test_plan.jsonl were never used (agents: planner)*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*plugin.py*")


def test_unused_calls_fail_with_strict_cassettes(recorded):
    """--strict-cassettes turns unused recorded calls into the test's failure."""
    recorded.makepyfile(test_trip=plan("plan a trip to Rome"))

    result = run(recorded, "--strict-cassettes")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 recorded calls in * were never used (agents: planner)*(--strict-cassettes)"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_corrupt_cassette_names_file_and_line(recorded):
    """A cassette line that is not JSON fails the test naming the file and line number."""
    path = recorded.path / "cassettes/test_trip/test_plan.jsonl"
    path.write_text(path.read_text() + "{not json\n")

    result = run(recorded)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_plan.jsonl:4: not valid JSON*re-record the file*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_replay_error_swallowed_by_the_code_still_fails_the_test(recorded):
    """An agent that catches the mismatch and goes on cannot hide that the replay diverged."""
    recorded.makepyfile(
        test_trip="""
        from fake_llm import FakeLLM, ask

        async def test_plan(cassette):
            llm = cassette.llm(FakeLLM(), agent_name="planner")
            await llm(ask("plan a trip to Rome"))
            try:
                await llm(ask("book the hostel"))
            except Exception:
                pass  # a retrying agent framework
        """
    )

    result = run(recorded)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*call #2 matches no recorded call*"])
