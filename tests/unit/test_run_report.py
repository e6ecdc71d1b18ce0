"""Run reports: ``pyagent-trace report merge`` (JSON, Markdown, bad input) and
``pyagent-trace html`` over a report or a folder of cassettes (links, escaping)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from pyagent_trace._recording import RecordEntry, save_entries
from pyagent_trace.cli import app
from pyagent_trace.cli._run_markdown import md
from pyagent_trace.cost import CostTracker
from pyagent_trace.run_report import FORMAT_VERSION, merge_run_reports, read_run_report, usage_groups
from pytest_pyagent_trace._summary import SessionReport, TestUsage

pytestmark = pytest.mark.filterwarnings("ignore::pyagent_trace.exceptions.PyAgentTraceWarning")  # unpriced models

OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2


def _usage(nodeid: str, *calls: tuple[str, str, int, int], cassette: str = "", **fields: object) -> TestUsage:
    """A test's usage as the plugin builds it: a CostTracker fed the calls, then grouped."""
    tracker = CostTracker()
    for agent, model, inp, out in calls:
        tracker.record(agent=agent, model=model, input_tokens=inp, output_tokens=out)
    usage = TestUsage(nodeid, mode="none", cassette=cassette, calls_replayed=len(calls), **fields)  # type: ignore[arg-type]
    usage.cost_usd, usage.tokens, usage.unpriced_calls = (
        tracker.total_cost,
        tracker.total_tokens,
        tracker.unpriced_calls,
    )
    usage.by_agent, usage.by_model = usage_groups(tracker.entries)
    return usage


def _write(path: Path, *usages: TestUsage, stale: tuple[str, ...] = ()) -> Path:
    """A --cost-report file, written by the plugin's own writer."""
    report = SessionReport("none")
    for usage in usages:
        report.add(usage)
    report.stale_cassettes = list(stale)
    path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return path


PLAN = _usage("tests/test_a.py::test_plan", ("planner", "gpt-4o-mini", 1000, 500), cassette="cassettes/a/plan.jsonl")
JUDGE = _usage("tests/test_b.py::test_judge", ("judge", "claude-sonnet-4-20250514", 1200, 480))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _error(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    # Blank lines ignored: CliRunner swaps sys.stderr for the whole process, so a background
    # thread of an earlier test (an exporter, a framework's retry) may write into it.
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


# -- merge --------------------------------------------------------------------------------
def test_a_test_in_two_shards_with_the_same_numbers_counts_once(tmp_path):
    """A shard job re-run and uploaded twice does not double the run's cost."""
    one = _write(tmp_path / "one.json", PLAN, stale=("cassettes/a/plan.jsonl", "cassettes/old.jsonl"))
    two = _write(tmp_path / "two.json", PLAN, JUDGE)

    merged = merge_run_reports([(p, read_run_report(p)) for p in (one, two)])

    assert merged == json.loads(
        _write(tmp_path / "whole.json", PLAN, JUDGE, stale=("cassettes/old.jsonl",)).read_text()
    )


def test_a_test_in_two_shards_with_different_numbers_names_both_files(runner, tmp_path):
    other = _usage("tests/test_a.py::test_plan", ("planner", "gpt-4o-mini", 9, 9))
    one, two = _write(tmp_path / "one.json", PLAN), _write(tmp_path / "two.json", other)

    message = _error(runner.invoke(app, ["report", "merge", str(one), str(two)]))

    assert f"'tests/test_a.py::test_plan' is in {one} and in {two} with different numbers" in message


def test_unknown_fields_such_as_drift_are_carried_through_a_merge(tmp_path):
    report = json.loads(_write(tmp_path / "one.json", PLAN, JUDGE).read_text())
    report["tests"][0]["drift"] = {"changed": [{"call": 1, "diff": "- a\n+ b"}], "cost_usd": [0.1, 0.2]}
    (tmp_path / "one.json").write_text(json.dumps(report))

    merged = merge_run_reports([(tmp_path / "one.json", read_run_report(tmp_path / "one.json"))])

    assert merged["tests"][0]["drift"] == report["tests"][0]["drift"]


BAD = [
    (b"not json", "the file is not JSON"),
    (b"[1, 2]", "the file must hold a JSON object, found list"),
    (b'{"mode": "none", "tests": []}', "format_version is missing"),
    (b'{"format_version": 99, "mode": "none", "tests": []}', "format_version 99 is not one this pyagent-trace reads"),
    (b'{"format_version": 1, "mode": "none", "tests": {}}', "tests must be a list, found dict"),
    (
        b'{"format_version": 1, "mode": "none", "tests": [{"nodeid": "t", "cost_usd": "free"}]}',
        "tests[0].cost_usd must be",
    ),
    (b'{"format_version": 1, "mode": "none", "tests": [{"nodeid": "t", "tokens": -3}]}', "tests[0].tokens must be"),
    (
        b'{"format_version": 1, "mode": "none", "tests": [{"cost_usd": 1}]}',
        "tests[0].nodeid must be a non-empty string",
    ),
    (
        b'{"format_version": 1, "mode": "none", "tests": [{"nodeid": "t", "written": "yes"}]}',
        "tests[0].written must be",
    ),
    (
        b'{"format_version": 1, "mode": "none", "tests": [{"nodeid": "t", "by_agent": {"a": {"calls": 1}}}]}',
        "tests[0].by_agent['a'].tokens is missing",
    ),
]


@pytest.mark.parametrize(("content", "expected"), BAD)
def test_a_bad_report_is_one_line_naming_the_file_and_field(runner, tmp_path, content, expected):
    good, bad = _write(tmp_path / "good.json", PLAN), tmp_path / "bad.json"
    bad.write_bytes(content)

    message = _error(runner.invoke(app, ["report", "merge", str(good), str(bad), "-o", str(tmp_path / "run.json")]))

    assert message.startswith(f"error: {bad}: ")
    assert expected in message
    assert not (tmp_path / "run.json").exists()


def test_a_missing_report_and_an_output_over_an_input_are_one_line_each(runner, tmp_path):
    good = _write(tmp_path / "good.json", PLAN)
    assert "nope.json: no such report" in _error(runner.invoke(app, ["report", "merge", str(tmp_path / "nope.json")]))
    message = _error(runner.invoke(app, ["report", "merge", str(good), "-o", str(good)]))
    assert "is one of the input reports" in message


# -- markdown -----------------------------------------------------------------------------
def test_markdown_has_totals_groups_top_tests_and_flags_unpriced_models(runner, tmp_path):
    house = _usage("tests/test_c.py::test_house[a|b]", ("clerk", "house-model", 10, 5))
    report = _write(tmp_path / "one.json", PLAN, JUDGE, house)

    result = runner.invoke(app, ["report", "merge", str(report), "--format", "markdown", "--top", "1"])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "## pyagent-trace run report",
        "",
        "| Mode | Tests | Calls | Replayed | Recorded | Tokens | Cost | Cassettes used |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| none | 3 | 3 | 3 | 0 | 3,195 | $0.01125 ⚠️ | 1 |",
        "",
        "### Cost by agent",
        "",
        "| Agent | Calls | Tokens | Cost |",
        "| --- | ---: | ---: | ---: |",
        "| judge | 1 | 1,680 | $0.01080 |",
        "| planner | 1 | 1,500 | $0.00045 |",
        "| clerk | 1 | 15 | unpriced ⚠️ |",
        "",
        "### Cost by model",
        "",
        "| Model | Calls | Tokens | Cost |",
        "| --- | ---: | ---: | ---: |",
        "| claude-sonnet-4-20250514 | 1 | 1,680 | $0.01080 |",
        "| gpt-4o-mini | 1 | 1,500 | $0.00045 |",
        "| house-model | 1 | 15 | unpriced ⚠️ |",
        "",
        "### Most expensive tests (top 1 of 3)",
        "",
        "| Test | Calls | Tokens | Cost |",
        "| --- | ---: | ---: | ---: |",
        "| tests/test\\_b.py::test\\_judge | 1 | 1,680 | $0.01080 |",
        "",
        "### Needs attention",
        "",
        "- ⚠️ **1 calls used models with no price** (house-model): their cost is unknown, not $0. "
        "Add prices by overriding the `pyagent_trace_prices` fixture.",
    ]


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ("test_x[a|b]", "test\\_x\\[a\\|b\\]"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert\\(1\\)&gt;"),
        ("line\nbreak", "line break"),
        ("`code` *bold*", "\\`code\\` \\*bold\\*"),
    ],
)
def test_markdown_cells_are_literal_text(name, cell):
    assert md(name) == cell


# -- html over a run ----------------------------------------------------------------------
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
    "</td></tr></table><iframe src=//x>",
    "<style>body{display:none}</style>",
    "&lt;script&gt;",
    "<a href='//evil'>x</a>",
    '"onmouseover="alert(1)',
    "</pre><b>x</b>",
    "{{constructor.constructor('alert(1)')()}}",
    "<!--",
]


def _cassette(folder: Path, relative: str, agent: str, response: str = "ok") -> str:
    entries = [
        RecordEntry(
            "llm_call", agent_name=agent, model="gpt-4o-mini", input_tokens=100, output_tokens=20, tokens=120,
            cost_usd=0.000027, duration_ms=5, messages=[{"role": "user", "content": response}], response=response,
        )
    ]  # fmt: skip
    save_entries(folder / relative, entries)
    return relative


def _hrefs(page: str) -> list[str]:
    return re.findall(r'<a href="([^"#][^"]*)"', page)


def test_the_run_page_escapes_every_recorded_text(runner, tmp_path, monkeypatch):
    """Node ids, agents, models, cassette paths and drift reach the page as text, never as markup."""
    monkeypatch.chdir(tmp_path)
    usages = []
    for n, payload in enumerate(PAYLOADS):
        cassette = _cassette(tmp_path, f"cassettes/t{n}/{payload.replace('/', '_')}.jsonl", payload, payload)
        usage = _usage(f"test_x.py::test[{payload}]", (payload, payload, 10, 5), cassette=cassette)
        usage_dict = usage.to_dict() | {"drift": {"summary": payload, "changed": [OPENAI_KEY, payload]}}
        usages.append(usage_dict)
    report = SessionReport("none").to_json() | {"tests": usages}
    (tmp_path / "run.json").write_text(json.dumps(report))

    result = runner.invoke(app, ["html", "run.json", "-o", "out/run.html"])

    assert result.exit_code == 0, result.output
    pages = [tmp_path / "out/run.html", *sorted((tmp_path / "out/run-cassettes").rglob("*.html"))]
    assert len(pages) == 1 + len(PAYLOADS)
    for page in pages:
        text = page.read_text()
        assert OPENAI_KEY not in text
        for payload in (p for p in PAYLOADS if set(p) & set("<>\"'")):  # markup; the rest is plain text
            assert payload not in text, (page.name, payload)
    index = pages[0].read_text()
    assert index.count('<tr class="test">') == len(PAYLOADS)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    links = _hrefs(index)
    assert len(links) == len(PAYLOADS)
    assert all((tmp_path / "out" / unquote(link)).is_file() for link in links)


def test_html_over_a_folder_of_cassettes_links_a_page_per_cassette(runner, tmp_path):
    """Every cassette is a row; each row links (relatively) to that cassette's call view."""
    folder = tmp_path / "cassettes"
    for name in ("test_a/test_plan.jsonl", "test_a/test_plan[1-2].jsonl", "test_b/test_judge.jsonl"):
        _cassette(folder, name, "planner")

    result = runner.invoke(app, ["html", str(folder)])

    assert result.exit_code == 0, result.output
    index = tmp_path / "cassettes.html"
    assert result.stdout.startswith(f"Wrote {index} (3 tests, 3 calls, $0.00008) and 3 cassette pages")
    page = index.read_text()
    for name in ("test_a/test_plan", "test_a/test_plan[1-2]", "test_b/test_judge"):
        assert f">{name}</a>" in page
    links = _hrefs(page)
    assert len(links) == 3
    assert all((index.parent / unquote(link)).is_file() for link in links)
    judge = index.parent / unquote(links[-1])
    assert "Trace: test_judge" in judge.read_text()
    (back,) = re.findall(r'<a class="back" href="([^"]+)"', judge.read_text())
    assert (judge.parent / back).resolve() == index.resolve()


def test_html_over_a_report_links_only_cassettes_that_exist_and_parse(runner, tmp_path):
    """A missing cassette is a row without a link; a broken one too, with a warning naming it."""
    _cassette(tmp_path, "cassettes/a/plan.jsonl", "planner")
    missing = _usage("tests/test_c.py::test_gone", cassette="cassettes/c/gone.jsonl", missing=True)
    broken = _usage("tests/test_d.py::test_broken", cassette="cassettes/d/broken.jsonl")
    (tmp_path / "cassettes/d").mkdir(parents=True)
    (tmp_path / "cassettes/d/broken.jsonl").write_text('{"event_type": "llm_call"}\n{oops\n')
    _write(tmp_path / "run.json", PLAN, JUDGE, missing, broken)

    result = runner.invoke(app, ["html", str(tmp_path / "run.json"), "--root", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: no page for cassette 'cassettes/d/broken.jsonl': ")
    assert "broken.jsonl:2: not valid JSON" in result.stderr
    page = (tmp_path / "run.html").read_text()
    assert _hrefs(page) == ["run-cassettes/cassettes/a/plan.jsonl.html"]
    assert "cassette missing" in page
    assert "no cassette page" in page
    assert page.count('<tr class="test">') == 4


def test_a_cassette_path_outside_the_folder_gets_a_page_inside_it(runner, tmp_path):
    """A report naming ``../x.jsonl`` cannot make html write outside its output folder."""
    (tmp_path / "root").mkdir()
    _cassette(tmp_path, "outside.jsonl", "planner")
    usage = _usage("t.py::t", ("planner", "gpt-4o-mini", 1, 1), cassette="../outside.jsonl")
    _write(tmp_path / "run.json", usage)

    result = runner.invoke(
        app, ["html", str(tmp_path / "run.json"), "--root", str(tmp_path / "root"), "-o", str(tmp_path / "o/r.html")]
    )

    assert result.exit_code == 0, result.output
    (page,) = (tmp_path / "o/r-cassettes").rglob("*.html")
    assert page.parent.name == "_elsewhere"


def test_html_over_a_folder_without_cassettes_or_a_bad_report_is_one_line(runner, tmp_path):
    (tmp_path / "empty").mkdir()
    assert "no cassettes (*.jsonl)" in _error(runner.invoke(app, ["html", str(tmp_path / "empty")]))
    bad = tmp_path / "run.json"
    bad.write_text(json.dumps({"format_version": FORMAT_VERSION, "mode": "none", "tests": [{"nodeid": 3}]}))
    assert f"{bad}: tests[0].nodeid must be" in _error(runner.invoke(app, ["html", str(bad)]))
