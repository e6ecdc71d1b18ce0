"""Stale cassettes: files under the cassette root that no collected test uses are listed
in the summary (and fail the run with --strict-cassettes)."""

from __future__ import annotations

import pytest
from plugin_testing import run, write_ini

TRIP = """
    import pytest
    from fake_llm import FakeLLM, ask

    async def test_plan(cassette):
        await cassette.llm(FakeLLM(), agent_name="planner")(ask("plan"))

    async def test_book(cassette):
        await cassette.llm(FakeLLM(), agent_name="booker")(ask("book"))

    @pytest.mark.cassette("cassettes/test_trip/shared.jsonl")
    async def test_shared(cassette):
        await cassette.llm(FakeLLM(), agent_name="planner")(ask("shared"))
"""


@pytest.fixture
def recorded(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """test_trip.py's three tests recorded; afterwards the fake LLM refuses calls."""
    project.makepyfile(test_trip=TRIP)
    run(project, "--record-mode=once").assert_outcomes(passed=3)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
    return project


def test_cassettes_of_collected_tests_are_not_stale(recorded):
    """Default and marker-named cassettes of collected tests are in use: the summary lists nothing stale."""
    result = run(recorded)

    result.assert_outcomes(passed=3)
    result.stdout.no_fnmatch_line("*no collected test uses*")


def test_cassette_of_a_renamed_test_is_listed_with_the_remedy(recorded):
    """After test_book is renamed its old cassette is listed, and the run still passes."""
    recorded.makepyfile(test_trip=TRIP.replace("test_book", "test_reserve").replace('"book"', '"reserve"'))
    (recorded.path / "cassettes/test_trip/test_reserve.jsonl").write_bytes(
        (recorded.path / "cassettes/test_trip/test_book.jsonl").read_bytes().replace(b'"book"', b'"reserve"')
    )

    result = run(recorded)

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "1 cassettes no collected test uses:",
            "  cassettes/test_trip/test_book.jsonl",
            "Delete them if their tests are gone; --strict-cassettes fails on them.",
        ]
    )


def test_strict_cassettes_fails_the_run_on_a_stale_cassette(recorded):
    """--strict-cassettes turns a stale cassette into a failed run (exit code 1) though every test passed."""
    (recorded.path / "cassettes/test_trip/test_gone.jsonl").write_bytes(
        (recorded.path / "cassettes/test_trip/test_plan.jsonl").read_bytes()
    )

    result = run(recorded, "--strict-cassettes")

    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["  cassettes/test_trip/test_gone.jsonl", "*(--strict-cassettes fails the run on them)."]
    )


def test_cassettes_of_a_deleted_test_module_are_stale(recorded):
    """A cassette folder whose test module no longer exists is listed."""
    gone = recorded.path / "cassettes/test_removed"
    gone.mkdir()
    (gone / "test_old.jsonl").write_bytes((recorded.path / "cassettes/test_trip/test_plan.jsonl").read_bytes())

    result = run(recorded)

    result.stdout.fnmatch_lines(["1 cassettes no collected test uses:", "  cassettes/test_removed/test_old.jsonl"])


def test_deselected_and_uncollected_tests_keep_their_cassettes(recorded):
    """Tests left out with -k, or modules not on the command line, do not make their cassettes stale."""
    recorded.makepyfile(
        test_other="""
        def test_nothing():
            pass
        """
    )

    by_keyword = run(recorded, "-k", "plan")
    by_file = run(recorded, "test_other.py")

    by_keyword.assert_outcomes(passed=1, deselected=3)
    for result in (by_keyword, by_file):
        result.stdout.no_fnmatch_line("*no collected test uses*")


def test_stale_detection_covers_an_ini_cassette_root(project):
    """With pyagent_trace_cassette_dir the same detection runs under that root."""
    write_ini(project, "pyagent_trace_cassette_dir = recorded")
    project.makepyfile(test_trip=TRIP)
    run(project, "--record-mode=once").assert_outcomes(passed=3)
    stale = project.path / "recorded/test_trip/test_old.jsonl"
    stale.write_bytes((project.path / "recorded/test_trip/test_plan.jsonl").read_bytes())

    result = run(project, "--strict-cassettes")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["  recorded/test_trip/test_old.jsonl"])


def test_unused_calls_are_counted_in_the_summary(recorded):
    """Recorded calls a test no longer makes are counted at the end of the run with the remedy."""
    recorded.makepyfile(
        test_trip=TRIP.replace('await cassette.llm(FakeLLM(), agent_name="booker")(ask("book"))', "pass")
    )

    result = run(recorded, "-W", "ignore::pyagent_trace.exceptions.PyAgentTraceWarning")

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["1 recorded calls were never used by their tests. Re-run with --record*"])
