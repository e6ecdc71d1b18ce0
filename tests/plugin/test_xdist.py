"""pytest-xdist: two workers record and replay safely (a shared cassette keeps every test's
calls, intact), and the controller's summary and stale list add up all workers."""

from __future__ import annotations

import json

import pytest
from plugin_testing import calls_in, read_cassette, run

# 4 tests with their own cassettes and 4 sharing one; 2 calls each, $0.00045 per call.
TESTS = {
    "test_own": """
        import pytest
        from fake_llm import FakeLLM, ask

        @pytest.mark.parametrize("n", range(4))
        async def test_own(cassette, n):
            llm = cassette.llm(FakeLLM(usage={"input_tokens": 1000, "output_tokens": 500}), agent_name="own")
            await llm(ask(f"own {n} a"))
            await llm(ask(f"own {n} b"))
    """,
    "test_shared": """
        import pytest
        from fake_llm import FakeLLM, ask

        pytestmark = pytest.mark.cassette("shared.jsonl")

        @pytest.mark.parametrize("n", range(4))
        async def test_shared(cassette, n):
            llm = cassette.llm(FakeLLM(usage={"input_tokens": 1000, "output_tokens": 500}), agent_name="shared")
            await llm(ask(f"shared {n} a"))
            await llm(ask(f"shared {n} b"))
    """,
}


@pytest.fixture
def recorded(project: pytest.Pytester) -> tuple[pytest.Pytester, pytest.RunResult]:
    """The 8 tests recorded by two workers."""
    project.makepyfile(**TESTS)
    return project, run(project, "-n", "2", "--record-mode=once", "--cost-report=cost.json")


def test_two_workers_record_every_test_and_the_summary_adds_them_up(recorded):
    """The controller's summary and JSON report count all 8 tests' 16 calls from both workers."""
    project, result = recorded

    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        [
            "mode once: 5 cassettes used, 5 written, 0 missing; 0 calls replayed, 16 recorded; "
            "0 network connections refused",
            "spend: $0.0072 over 24,000 tokens in 8 tests (16 recorded calls paid for)",
        ]
    )
    report = json.loads((project.path / "cost.json").read_text())
    assert len(report["tests"]) == 8
    assert report["totals"]["calls_recorded"] == 16


def test_shared_cassette_holds_every_tests_calls_intact(recorded):
    """shared.jsonl is one valid file: one header, all 8 calls, grouped by the test that made them."""
    project, _ = recorded
    path = project.path / "shared.jsonl"

    rows = read_cassette(path)
    calls = calls_in(path)

    assert [r["event_type"] for r in rows].count("recording_header") == 1
    assert [(c["metadata"]["recorded_by"], c["messages"][0]["content"]) for c in calls] == [
        (f"test_shared.py::test_shared[{n}]", f"shared {n} {step}") for n in range(4) for step in "ab"
    ]
    assert not list(project.path.glob(".shared.jsonl.*"))  # no temp files left behind


def test_two_workers_replay_every_test_without_the_llm(recorded, monkeypatch):
    """Replaying with two workers passes all 8 tests, reports 16 calls replayed and no unused calls."""
    project, _ = recorded
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")

    result = run(project, "-n", "2")

    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["mode none: 5 cassettes used, 0 written, 0 missing; 16 calls replayed, 0 recorded;*"])
    result.stdout.no_fnmatch_line("*never used*")


def test_rerecording_with_two_workers_gives_identical_cassettes(recorded):
    """--record with two workers rewrites every cassette, shared one included, byte for byte."""
    project, _ = recorded
    before = {p: p.read_bytes() for p in project.path.rglob("*.jsonl")}

    run(project, "-n", "2", "--record").assert_outcomes(passed=8)

    assert {p: p.read_bytes() for p in project.path.rglob("*.jsonl")} == before


def test_stale_cassettes_are_found_across_workers(recorded):
    """Each worker's collection reaches the controller: only the orphan is listed, once."""
    project, _ = recorded
    (project.path / "cassettes/test_own/test_gone.jsonl").write_bytes(
        (project.path / "cassettes/test_own/test_own[0].jsonl").read_bytes()
    )
    project.makepyfile(
        test_own=TESTS["test_own"].replace("range(4)", "range(3)"),
    )

    result = run(project, "-n", "2", "--strict-cassettes")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "2 cassettes no collected test uses:",
            "  cassettes/test_own/test_gone.jsonl",
            "  cassettes/test_own/test_own?3?.jsonl",
        ]
    )
