"""One report for a sharded run: the --cost-report files of three shards, merged with
``pyagent-trace report merge``, equal the report of the same suite run unsharded."""

from __future__ import annotations

import json

import pytest
from plugin_testing import INNER_FLAGS
from typer.testing import CliRunner

from pyagent_trace.cli import app

# Two agents on two models (one unpriced), a cassette test that stays missing, a test that
# only tracks cost: every kind of row a report holds. Each call is 1,000 + 500 tokens.
SUITE = """
    import pytest
    from fake_llm import FakeLLM, ask

    USAGE = {"input_tokens": 1000, "output_tokens": 500}

    @pytest.mark.parametrize("calls", [1, 2, 3, 4])
    async def test_plan(cassette, calls):
        planner = cassette.llm(FakeLLM(usage=USAGE), agent_name="planner")
        for n in range(calls):
            await planner(ask(f"step {n}"))
        judge = cassette.llm(FakeLLM(usage=USAGE), agent_name="judge", model="claude-sonnet-4-20250514")
        await judge(ask("verdict"))

    async def test_house_model(cassette):
        await cassette.llm(FakeLLM(usage=USAGE), agent_name="clerk", model="house-model")(ask("file it"))

    def test_tracked_only(cost_tracker):
        cost_tracker.record(agent="estimator", model="gpt-4o", input_tokens=2000, output_tokens=100)

    @pytest.mark.cassette(record_mode="none")
    async def test_never_recorded(cassette):
        await cassette.llm(FakeLLM(usage=USAGE), agent_name="planner")(ask("hi"))

    def test_plain():
        pass
"""
SHARDS = (
    ["test_suite.py::test_plan[1]", "test_suite.py::test_plan[4]", "test_suite.py::test_plain"],
    ["test_suite.py::test_plan[2]", "test_suite.py::test_house_model", "test_suite.py::test_never_recorded"],
    ["test_suite.py::test_plan[3]", "test_suite.py::test_tracked_only"],
)
QUIET = ("-q", "-W", "ignore::pyagent_trace.exceptions.PyAgentTraceWarning")


def _run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner session in this process: these tests use no OpenTelemetry globals."""
    return project.runpytest(*INNER_FLAGS, *QUIET, *args)


def test_three_merged_shards_equal_one_unsharded_run(project):
    """Totals, per-agent and per-model groups, every test's row and the Markdown job summary
    of three shards merged are those of the same suite run whole (all in record mode ``all``,
    so every session does the same work)."""
    project.makepyfile(test_suite=SUITE)
    _run(project, "--record-mode=all", "--cost-report=whole.json").assert_outcomes(passed=7, failed=1)
    files = []
    for number, nodeids in enumerate(SHARDS, start=1):
        _run(project, "--record-mode=all", *nodeids, f"--cost-report=shard-{number}.json")
        files.append(f"shard-{number}.json")
    runner = CliRunner()

    result = runner.invoke(app, ["report", "merge", *files, "-o", "run.json"])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Merged 3 reports into run.json: 7 tests, 16 calls, $0.05250."
    whole = json.loads((project.path / "whole.json").read_text())
    merged = json.loads((project.path / "run.json").read_text())
    assert merged == whole
    assert merged["format_version"] == 1
    assert merged["totals"]["calls_recorded"] == 15
    assert merged["totals"]["cassettes_missing"] == ["cassettes/test_suite/test_never_recorded.jsonl"]
    assert list(merged["by_agent"]) == ["judge", "estimator", "planner", "clerk"]
    assert merged["by_model"]["house-model"] == {"calls": 1, "tokens": 1500, "cost_usd": 0.0, "unpriced_calls": 1}

    markdown = runner.invoke(app, ["report", "merge", *files, "--format", "markdown"]).stdout
    assert markdown == runner.invoke(app, ["report", "merge", "whole.json", "--format", "markdown"]).stdout
    assert "| all | 7 | 16 | 0 | 15 | 24,600 | $0.05250 ⚠️ | 5 |" in markdown
    assert "| clerk | 1 | 1,500 | unpriced ⚠️ |" in markdown
    assert "**1 calls used models with no price** (house-model)" in markdown
    assert "**1 cassettes missing**" in markdown
