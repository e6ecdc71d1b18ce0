"""Reviewing a re-record: ``--record-mode=check`` calls the (fake) providers live, reports
how their answers drifted from the committed cassette and writes nothing;
``cost_budget(regression=)`` fails a re-record or check whose cost grew past a ratio.

Inner sessions run in-process (no OpenTelemetry globals are involved). pytester drops
the modules an inner session imported when it ends, so the ones every inner session
needs are imported here once: re-importing (and assertion-rewriting) them per session
cost more than the sessions themselves.
"""

from __future__ import annotations

import importlib
import json

import pytest
from fake_server import load_fake_providers, running_fake_server
from plugin_testing import INNER_FLAGS, write_ini


@pytest.fixture(autouse=True)
def _imported_once() -> None:
    for module in ("pyagent_trace.cassette", "pyagent_trace.drift", "pyagent_trace.http._capture"):
        importlib.import_module(module)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*INNER_FLAGS, *args)


AGENTS = """
import os
import pytest
from fake_llm import FakeLLM, ask


def llm(cassette, agent):
    grow = float(os.environ.get(f"GROW_{agent.upper()}", "1"))  # the prompt got longer
    return cassette.llm(FakeLLM(usage={"input_tokens": int(1000 * grow), "output_tokens": 500}), agent_name=agent)


@pytest.mark.cassette
async def test_answer(cassette):
    await llm(cassette, "writer")(ask("draft"))


@pytest.mark.cassette
async def test_more_calls(cassette):
    writer = llm(cassette, "writer")
    await writer(ask("draft"))
    if os.environ.get("EXTRA_CALL"):
        await writer(ask("and again"))
"""


def cassette_bytes(project: pytest.Pytester) -> dict[str, bytes]:
    return {str(p.relative_to(project.path)): p.read_bytes() for p in sorted(project.path.glob("cassettes/**/*.jsonl"))}


@pytest.fixture
def recorded(project: pytest.Pytester) -> pytest.Pytester:
    project.makepyfile(test_agents=AGENTS)
    run(project, "--record-mode=once").assert_outcomes(passed=2)
    return project


def test_a_check_finds_no_drift_until_the_model_changes_then_reports_it_and_writes_nothing(recorded, monkeypatch):
    """Unchanged answers: no drift. A new answer and a longer prompt: the summary shows the text diff, tokens and
    USD before → after and the command that re-records just that test; --cost-report carries the same per test;
    the cassettes keep their bytes and the test passes (report only is the default)."""
    committed = cassette_bytes(recorded)

    unchanged = run(recorded, "--record-mode=check")

    unchanged.assert_outcomes(passed=2)
    unchanged.stdout.fnmatch_lines(["drift: none; the live calls of 2 checked tests match their cassettes."])
    unchanged.stdout.no_fnmatch_line("*re-record just*")
    monkeypatch.setenv("FAKE_LLM_VERSION", "2")
    monkeypatch.setenv("GROW_WRITER", "1.5")

    result = run(recorded, "--record-mode=check", "-k", "test_answer", "--cost-report=cost.json")

    result.assert_outcomes(passed=1)
    assert cassette_bytes(recorded) == committed
    result.stdout.fnmatch_lines(
        [
            "mode check: 1 cassettes used, 0 written, 0 missing; 0 calls replayed, 1 made live (nothing written)*",
            "drift: 1 of 1 checked tests differ from their cassettes:",
            "  test_agents.py::test_answer: 1 call changed; tokens 1,500 → 2,000; $0.00045 → $0.000525",
            "      agent writer: 1 call changed",
            "*response changed:",
            "*-reply: draft",
            "*+reply2: draft",
            "*tokens: 1000→500 → 1500→500 (+500)",
            "Review the diffs; to accept them, re-record just these tests with: "
            "pytest --record-mode=all test_agents.py::test_answer",
        ]
    )
    report = json.loads((recorded.path / "cost.json").read_text())
    assert report["totals"]["tests_drifted"] == ["test_agents.py::test_answer"]
    (test,) = report["tests"]
    drift = test["drift"]
    assert (drift["drifted"], drift["calls_changed"], drift["responses_changed"]) == (True, 1, 1)
    assert (drift["before"]["tokens"], drift["after"]["tokens"]) == (1500, 2000)
    assert (drift["before"]["cost_usd"], drift["after"]["cost_usd"]) == (0.00045, 0.000525)
    assert "      +reply2: draft" in drift["diff"]
    assert drift["rerecord"] == "pytest --record-mode=all test_agents.py::test_answer"
    assert (test["mode"], test["written"], test["calls_recorded"]) == ("check", False, 1)


def test_drift_fail_calls_fails_an_added_call_but_not_a_new_answer(recorded, monkeypatch):
    """pyagent_trace_drift_fail = calls: a test that makes one more call fails with the diff and the re-record
    command; a test whose calls only got other answers passes, its drift reported."""
    monkeypatch.setenv("FAKE_LLM_VERSION", "2")
    monkeypatch.setenv("EXTRA_CALL", "1")

    result = run(recorded, "--record-mode=check", "-o", "pyagent_trace_drift_fail=calls")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_agents.py::test_more_calls: its live calls drifted from cassettes/test_agents/test_more_calls.jsonl"
            " (pyagent_trace_drift_fail = calls): 1 call added, 1 call changed*",
            "agent writer: 1 call added, 1 call changed",
            "  + call 2 (gpt-4o-mini, 1000→500 tok, $0.00045)",
            "Expected? Re-record just this test with: pytest --record-mode=all test_agents.py::test_more_calls",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.fnmatch_lines(["drift: 2 of 2 checked tests differ from their cassettes:"])


REGRESSION = """
import pytest
from test_agents import llm


@pytest.mark.cassette
@pytest.mark.cost_budget(regression=1.2)
async def test_grows(cassette):
    await llm(cassette, "writer")(ask("draft"))
    await llm(cassette, "critic")(ask("judge"))


@pytest.mark.cassette
@pytest.mark.cost_budget(regression=2)
async def test_within(cassette):
    await llm(cassette, "writer")(ask("draft"))
    await llm(cassette, "critic")(ask("judge"))


def ask(text):
    return [{"role": "user", "content": text}]
"""


def test_a_regression_ratio_fails_the_check_and_the_re_record_naming_the_agent_that_grew(project, monkeypatch):
    """The writer's prompt grows 3x: under regression=1.2 the check fails naming agent and model, before → after
    and the ratio, writing nothing; the re-record fails the same way but writes; regression=2 passes both."""
    project.makepyfile(test_agents=AGENTS, test_regress=REGRESSION)
    run(project, "--record-mode=once", "test_regress.py").assert_outcomes(passed=2)
    committed = cassette_bytes(project)
    monkeypatch.setenv("GROW_WRITER", "3")
    failure = [
        "test_regress.py::test_grows: cost regression over the committed cassette "
        "cassettes/test_regress/test_grows.jsonl (limit: @pytest.mark.cost_budget(regression=1.2)):",
        "cost and tokens grew more than 1.2x over the committed cassette:",
        "  total: $0.00090 → $0.00120 (1.33x), tokens 3,000 → 5,000 (1.67x)",
        "  agent 'writer', model gpt-4o-mini: $0.00045 → $0.00075 (1.67x), tokens 1,500 → 3,500 (2.33x)",
    ]

    checked = run(project, "--record-mode=check", "test_regress.py")

    checked.assert_outcomes(passed=1, failed=1)
    checked.stdout.fnmatch_lines([*failure, "Nothing was written (record mode check)*"])
    checked.stdout.no_fnmatch_line("*agent 'critic'*")
    assert cassette_bytes(project) == committed

    rerecorded = run(project, "--record-mode=all", "test_regress.py")

    rerecorded.assert_outcomes(passed=1, failed=1)
    rerecorded.stdout.fnmatch_lines([*failure, "The re-recorded cassette * was written*git checkout -- *"])
    rerecorded.stdout.no_fnmatch_line("*Traceback*")


TEST_SDK = """
import os
import openai
import pytest

@pytest.mark.cassette
def test_chat():
    client = openai.OpenAI(api_key="sk-test-0123456789", base_url=os.environ["FAKE_BASE"] + "/v1", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}])
"""


def test_sdk_calls_are_checked_at_the_http_level_and_the_ini_ratio_fails_a_grown_prompt(project, monkeypatch):
    """An OpenAI SDK call: the fake server answers with a new call number and 10x the input tokens. The check
    reports the new answer and fails on the ini's ratio, naming the model; the cassette keeps its bytes."""
    importlib.import_module("openai")  # once, not once per inner session
    fakes = load_fake_providers()
    write_ini(project, "pyagent_trace_cost_regression = 1.5")
    project.makepyfile(test_sdk=TEST_SDK)
    for server in running_fake_server():
        monkeypatch.setenv("FAKE_BASE", server.url)
        run(project, "--record-mode=once").assert_outcomes(passed=1)
        committed = cassette_bytes(project)
        monkeypatch.setitem(fakes.OPENAI_USAGE, "input", 1200)  # the next answer: "Reply 2: ..."

        result = run(project, "--record-mode=check")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*(limit: ini pyagent_trace_cost_regression = 1.5):",
            "*tokens grew more than 1.5x over the committed cassette:",
            "  total: * tokens 150 → 1,230 (8.20x)",
            "  no agent, model gpt-4o-mini: $0.00003 → $0.00019 (6.68x), tokens 150 → 1,230 (8.20x)",
            "drift: 1 of 1 checked tests differ from their cassettes:",
            "*-Reply 1: hello there",
            "*+Reply 2: hello there",
        ]
    )
    assert cassette_bytes(project) == committed


BAD_MARKERS = """
import pytest

@pytest.mark.cost_budget(regression=1.0)
def test_not_above_one():
    pass

@pytest.mark.cost_budget(regression="20%")
def test_not_a_number():
    pass

@pytest.mark.cost_budget(ratio=1.2)
def test_unknown_argument():
    pass
"""


def test_a_bad_regression_marker_fails_its_test_saying_what_it_takes(project):
    project.makepyfile(test_budget=BAD_MARKERS)

    result = run(project)

    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*cost_budget(regression=1.0): regression=1.0: must be a finite number above 1.0*",
            "*cost_budget(regression='20%'): regression='20%': give a number above 1.0*",
            "*cost_budget(ratio=1.2): unknown argument 'ratio'; give usd=, tokens=, calls= and/or regression=.",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("pyagent_trace_cost_regression = cheap", "*pyagent_trace_cost_regression='cheap': give a number above 1.0*"),
        ("pyagent_trace_drift_fail = always", "*pyagent_trace_drift_fail = 'always': use one of none, calls, text."),
    ],
    ids=["regression", "drift-fail"],
)
def test_a_bad_ini_value_stops_the_run_with_one_line(project, ini, message):
    write_ini(project, ini)
    project.makepyfile(test_plain="def test_plain():\n    pass\n")

    result = run(project)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
