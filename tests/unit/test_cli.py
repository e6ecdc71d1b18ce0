"""The pyagent-trace command line: view, stats, diff, html, scrub, and its error messages."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from pyagent_trace._jsonl_io import TMP_DIR
from pyagent_trace._recording import RecordEntry, load_entries, save_entries
from pyagent_trace.cli import app
from pyagent_trace.cli._report import timeline
from pyagent_trace.trace_service import TraceSpan

GEMINI, CLAUDE = "gemini-2.5-flash", "claude-sonnet-4-20250514"
OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2


def debate_entries(service: str | None = "investment-analysis") -> list[RecordEntry]:
    """The docs' "Trace Output Example": two rounds of bull/bear, then the judge."""
    rows = [
        ("bull", GEMINI, 450, 380, 0.00094, 2400.0),
        ("bear", GEMINI, 450, 410, 0.00098, 2700.0),
        ("bull", GEMINI, 410, 360, 0.00086, 2100.0),
        ("bear", GEMINI, 410, 380, 0.00084, 1900.0),
        ("judge", CLAUDE, 1200, 480, 0.00840, 700.0),
    ]
    meta = {"service_name": service} if service else {}
    entries = [RecordEntry("pattern_start", pattern_type="debate", timestamp=1000.0, metadata=meta)]
    clock = 1000.0
    for agent, model, inp, out, cost, ms in rows:
        clock += ms / 1000
        entries.append(
            RecordEntry(
                "llm_call", agent_name=agent, pattern_type="debate", model=model, timestamp=clock,
                duration_ms=ms, input_tokens=inp, output_tokens=out, tokens=inp + out, cost_usd=cost,
                messages=[{"role": "user", "content": f"{agent} prompt"}], response=f"{agent} says",
            )
        )  # fmt: skip
    entries.append(
        RecordEntry(
            "pattern_end", pattern_type="debate", timestamp=clock, duration_ms=9800.0, cost_usd=0.01202,
            metadata={"early_stop": False},
        )
    )  # fmt: skip
    return entries


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def debate(tmp_path):
    return save_entries(tmp_path / "debate.jsonl", debate_entries())


def _calls(entries):
    return [e for e in entries if e.event_type == "llm_call"]


# -- view ----------------------------------------------------------------------------------
def test_view_prints_the_docs_tree_with_hand_computed_totals(runner, debate):
    result = runner.invoke(app, ["view", str(debate)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Trace: investment-analysis / debate (9.8s total, $0.01202)",
        "├── pyagent.agent.bull  2.4s gemini-2.5-flash  450→380 tok $0.00094",
        "├── pyagent.agent.bear  2.7s gemini-2.5-flash  450→410 tok $0.00098",
        "├── pyagent.agent.bull  2.1s (round 2)         410→360 tok $0.00086",
        "├── pyagent.agent.bear  1.9s (round 2)         410→380 tok $0.00084",
        "└── pyagent.agent.judge 0.7s claude-sonnet-4  1200→480 tok $0.00840",
        "─" * 67,
        "Total: $0.01202, early_stop: false",
    ]


def test_the_shipped_debate_recording_prints_the_docs_tree(runner):
    """examples/docs/recordings/debate_run.jsonl is the docs' "Trace Output Example" run."""
    path = Path(__file__).parents[2] / "examples" / "docs" / "recordings" / "debate_run.jsonl"
    lines = runner.invoke(app, ["view", str(path)]).stdout.splitlines()
    assert lines[0] == "Trace: investment-analysis / debate (9.8s total, $0.01202)"
    assert lines[3] == "├── pyagent.agent.bull  2.1s (round 2)         410→360 tok $0.00086"
    assert lines[-1] == "Total: $0.01202, early_stop: false"


def test_view_names_the_trace_after_the_file_without_a_service_and_sums_calls_without_pattern_end(runner, tmp_path):
    entries = [e for e in debate_entries(service=None) if e.event_type != "pattern_end"]
    path = save_entries(tmp_path / "run_7.jsonl", entries)
    lines = runner.invoke(app, ["view", str(path)]).stdout.splitlines()
    assert lines[0] == "Trace: run_7 / debate (9.8s total, $0.01202)"


def test_view_marks_unpriced_calls_a_changed_model_and_early_stop(runner, tmp_path):
    entries = [
        RecordEntry("llm_call", agent_name="a", model="gpt-4o", duration_ms=50, input_tokens=1, output_tokens=2),
        RecordEntry("llm_call", agent_name="a", model="mystery", duration_ms=1500, priced=False),
        RecordEntry("pattern_end", duration_ms=1550, metadata={"early_stop": True}),
    ]
    lines = runner.invoke(app, ["view", str(save_entries(tmp_path / "u.jsonl", entries))]).stdout.splitlines()
    assert lines[0] == "Trace: u (1.6s total, $0.00000)"
    assert lines[1] == "├── pyagent.agent.a 50ms gpt-4o            1→2 tok $0.00000"
    assert lines[2] == "└── pyagent.agent.a 1.5s mystery (round 2) 0→0 tok unpriced"
    assert lines[-1] == "Total: $0.00000 + 1 unpriced call, early_stop: true"


def test_view_reads_jsonl_exporter_output(runner, tmp_path):
    rows = [
        {"timestamp": 1.0, "event_type": "agent_start", "agent_name": "analyst", "pattern_type": "", "payload": {}},
        {"timestamp": 2.0, "event_type": "cost_record", "agent_name": "analyst", "pattern_type": "",
         "payload": {"model": "gpt-4o-mini", "input_tokens": 100, "output_tokens": 20, "cost_usd": 0.00003}},
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    lines = runner.invoke(app, ["view", str(path)]).stdout.splitlines()
    assert lines[1] == "└── pyagent.agent.analyst 0ms gpt-4o-mini 100→20 tok $0.00003"


# -- stats ---------------------------------------------------------------------------------
def test_stats_json_has_the_hand_computed_breakdowns(runner, debate):
    result = runner.invoke(app, ["stats", "--json", str(debate)])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["files"] == [str(debate)]
    assert data["spans"] == 7
    assert data["total"] == {
        "calls": 5, "input_tokens": 2920, "output_tokens": 2010, "tokens": 4930, "cost_usd": 0.01202,
        "duration_ms": 9800.0, "unpriced_calls": 0, "mean_ms": 1960.0,
    }  # fmt: skip
    agents = {
        name: (g["calls"], g["tokens"], round(g["cost_usd"], 8), g["duration_ms"])
        for name, g in data["by_agent"].items()
    }
    assert agents == {
        "bull": (2, 1600, 0.0018, 4500.0),
        "bear": (2, 1650, 0.00182, 4600.0),
        "judge": (1, 1680, 0.0084, 700.0),
    }
    assert {m: round(g["cost_usd"], 8) for m, g in data["by_model"].items()} == {GEMINI: 0.00362, CLAUDE: 0.0084}
    assert data["by_pattern"]["debate"]["calls"] == 5


def test_stats_tables_show_each_group(runner, debate):
    result = runner.invoke(app, ["stats", str(debate)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == "debate.jsonl: 5 calls, 4,930 tokens (2,920 in + 2,010 out), $0.01202, 9.8s in calls"
    for fragment in ("By pattern", "By agent", "By model", CLAUDE, "$0.00180", "$0.00182", "$0.00362", "1,720", "4.5s"):
        assert fragment in out


def test_stats_adds_several_files_together(runner, tmp_path, debate):
    other = save_entries(
        tmp_path / "b.jsonl", [RecordEntry("llm_call", agent_name="bull", model=GEMINI, cost_usd=0.001)]
    )
    data = orjson.loads(runner.invoke(app, ["stats", "--json", str(debate), str(other)]).stdout)
    assert data["total"]["calls"] == 6
    assert data["by_agent"]["bull"]["calls"] == 3
    assert round(data["total"]["cost_usd"], 8) == 0.01302
    assert runner.invoke(app, ["stats", str(debate), str(other)]).stdout.startswith("2 files: 6 calls")


# -- diff ----------------------------------------------------------------------------------
def test_diff_of_identical_runs_exits_0_and_ignores_times(runner, tmp_path, debate):
    shifted = [
        dataclasses.replace(e, timestamp=e.timestamp + 99, duration_ms=e.duration_ms * 2) for e in debate_entries()
    ]
    other = save_entries(tmp_path / "again.jsonl", shifted)
    result = runner.invoke(app, ["diff", str(debate), str(other)])
    assert result.exit_code == 0, result.output
    assert "No differences: 5 calls match" in result.stdout


def test_diff_shows_a_changed_response_with_token_and_cost_deltas(runner, tmp_path, debate):
    entries = debate_entries()
    entries[2] = dataclasses.replace(
        entries[2], response="bear argues\nsecond line", output_tokens=430, tokens=880, cost_usd=0.00104
    )
    other = save_entries(tmp_path / "new.jsonl", entries)
    result = runner.invoke(app, ["diff", str(debate), str(other)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[2] == "cost $0.01202 → $0.01208 (+$0.00006); tokens 4,930 → 4,950 (+20); calls 5 → 5 (+0)"
    assert "agent bear: 1 call changed" in lines
    assert "  ~ call 1 changed" in lines
    assert "      -bear says" in lines
    assert "      +bear argues" in lines
    assert "      +second line" in lines
    assert "    tokens: 450→410 → 450→430 (+20)" in lines
    assert "    cost: $0.00098 → $0.00104 (+$0.00006)" in lines
    assert not any(line.startswith("agent bull") for line in lines)


def test_diff_reports_calls_added_and_removed_per_agent(runner, tmp_path, debate):
    entries = debate_entries()
    extra = dataclasses.replace(entries[1], messages=[{"role": "user", "content": "bull round 0"}])
    entries = [entries[0], extra, *entries[1:5], *entries[6:]]  # one bull call more, judge gone
    other = save_entries(tmp_path / "new.jsonl", entries)
    result = runner.invoke(app, ["diff", str(debate), str(other)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "agent bull: 1 call added" in lines
    assert "  + call 1 (gemini-2.5-flash, 450→380 tok, $0.00094)" in lines
    assert "agent judge: 1 call removed" in lines
    assert "  - call 1 (claude-sonnet-4-20250514, 1200→480 tok, $0.00840)" in lines


def test_diff_shows_prompt_and_model_changes(runner, tmp_path, debate):
    entries = debate_entries()
    entries[5] = dataclasses.replace(
        entries[5], model="gpt-4o", messages=[{"role": "user", "content": "judge prompt v2"}]
    )
    other = save_entries(tmp_path / "new.jsonl", entries)
    lines = runner.invoke(app, ["diff", str(debate), str(other)]).stdout.splitlines()
    assert "    model: claude-sonnet-4-20250514 → gpt-4o" in lines
    assert "    prompt changed:" in lines
    assert "      -user: judge prompt" in lines
    assert "      +user: judge prompt v2" in lines


def test_diff_compares_http_status_and_url(runner, tmp_path):
    def http(status, url):
        return RecordEntry(
            "http_interaction", agent_name="w", model="gpt-4o",
            metadata={"http": {"request": {"method": "POST", "url": url}, "response": {"status": status}}},
        )  # fmt: skip

    a = save_entries(tmp_path / "a.jsonl", [http(200, "https://api.test/v1/chat")])
    b = save_entries(tmp_path / "b.jsonl", [http(429, "https://api.test/v2/chat")])
    lines = runner.invoke(app, ["diff", str(a), str(b)]).stdout.splitlines()
    assert "    request: POST https://api.test/v1/chat → POST https://api.test/v2/chat" in lines
    assert "    status: 200 → 429" in lines


# -- html ----------------------------------------------------------------------------------
def test_html_writes_one_self_contained_page(runner, tmp_path, debate):
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["html", str(debate), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Wrote {out} (5 calls, $0.01202)."
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    for fragment in ("Trace: investment-analysis / debate", "$0.01202", "$0.00840", 'id="call-5"', "judge prompt"):
        assert fragment in page
    for forbidden in ("<link", "<script src", "<img src", "@import", "url(", "<iframe"):
        assert forbidden not in page
    assert "default-src 'none'" in page


def test_html_defaults_to_the_input_name_and_escapes_recorded_text(runner, tmp_path):
    entry = RecordEntry(
        "llm_call", agent_name="<script>alert(1)</script>", response=f"</pre><b>x</b> {OPENAI_KEY}", duration_ms=5
    )
    path = save_entries(tmp_path / "evil.jsonl", [entry])
    assert runner.invoke(app, ["html", str(path)]).exit_code == 0
    page = (tmp_path / "evil.html").read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "</pre><b>x</b>" not in page
    assert OPENAI_KEY not in page  # the report is scrubbed again


def test_html_refuses_to_overwrite_its_input(runner, debate):
    result = runner.invoke(app, ["html", str(debate), "-o", str(debate)])
    assert result.exit_code == 2
    assert "is the input file" in result.stderr


def test_timeline_uses_end_timestamps_or_lays_calls_end_to_end():
    def span(ts, ms):
        return TraceSpan("llm_call", timestamp=ts, duration_ms=ms)

    overlapping = timeline([span(10.0, 1000), span(10.2, 500)])  # ends at 10.0 s and 10.2 s
    assert overlapping == ([(0.0, 1000.0), (700.0, 1200.0)], 1200.0, True)
    assert timeline([span(0, 200), span(0, 300)]) == ([(0.0, 200.0), (200.0, 500.0)], 500.0, True)
    assert timeline([span(5.0, 0), span(6.0, 0)]) == ([(0.0, 1.0), (1.0, 2.0)], 2.0, False)


# -- scrub ---------------------------------------------------------------------------------
def _dirty_cassette(tmp_path):
    http = {
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/chat/completions?key=abc123",
            "headers": {"authorization": [f"Bearer {OPENAI_KEY}"]},
            "body": {"messages": [{"role": "user", "content": "hi"}]},
        },
        "response": {"status": 200, "headers": {"set-cookie": ["a=b"]}, "body": {"ok": True}},
    }
    entries = [
        RecordEntry("llm_call", agent_name="clean", response="fine"),
        RecordEntry("http_interaction", agent_name="writer", response="hello", metadata={"http": http}),
    ]
    return save_entries(tmp_path / "cassette.jsonl", entries)


def test_scrub_rewrites_the_cassette_and_lists_what_it_removed(runner, tmp_path):
    path = _dirty_cassette(tmp_path)
    result = runner.invoke(app, ["scrub", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{path}: removed 3 secrets from 1 line(s):",
        f"  {path}:3 (http_interaction writer): metadata.http.request.headers.authorization",
        f"  {path}:3 (http_interaction writer): metadata.http.request.url?key",
        f"  {path}:3 (http_interaction writer): metadata.http.response.headers.set-cookie",
    ]
    text = path.read_text()
    assert OPENAI_KEY not in text
    assert "abc123" not in text
    http = load_entries(path)[1].metadata["http"]
    assert http["request"]["headers"]["authorization"] == ["<redacted>"]
    assert http["request"]["body"] == {"messages": [{"role": "user", "content": "hi"}]}
    assert [p.name for p in tmp_path.iterdir() if p.name != TMP_DIR] == ["cassette.jsonl"]
    assert list((tmp_path / TMP_DIR).glob("*.tmp")) == []  # no temporary file left
    again = runner.invoke(app, ["scrub", str(path)])
    assert (again.exit_code, again.stdout.strip()) == (0, f"{path}: nothing to scrub.")


def test_scrub_keeps_the_files_permissions_and_html_uses_the_umask(runner, tmp_path):
    path = _dirty_cassette(tmp_path)
    path.chmod(0o640)
    assert runner.invoke(app, ["scrub", str(path)]).exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        assert runner.invoke(app, ["html", str(path), "-o", str(tmp_path / "r.html")]).exit_code == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "r.html").stat().st_mode) == 0o644


def test_scrub_check_exits_1_and_writes_nothing(runner, tmp_path):
    path = _dirty_cassette(tmp_path)
    before = path.read_bytes()
    result = runner.invoke(app, ["scrub", "--check", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"{path}: would remove 3 secrets from 1 line(s):"
    assert result.stdout.splitlines()[-1] == f"Run: pyagent-trace scrub {path}"
    assert path.read_bytes() == before


def test_scrub_check_on_a_clean_file_exits_0(runner, debate):
    before = debate.read_bytes()
    result = runner.invoke(app, ["scrub", "--check", str(debate)])
    assert (result.exit_code, result.stdout.strip()) == (0, f"{debate}: nothing to scrub.")
    assert debate.read_bytes() == before


def test_scrub_takes_extra_headers_query_params_and_body_paths(runner, tmp_path):
    http = {
        "request": {
            "method": "GET",
            "url": "https://x.test/?session=s1",
            "headers": {"X-Team-Secret": ["t"]},
            "body": {"auth": {"pin": "1"}},
        },
        "response": {"status": 200},
    }
    path = save_entries(tmp_path / "c.jsonl", [RecordEntry("http_interaction", metadata={"http": http})])
    args = ["scrub", str(path), "--header", "x-team-secret", "--query", "session", "--body-path", "auth.pin"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    scrubbed = load_entries(path)[0].metadata["http"]["request"]
    assert scrubbed == {
        "method": "GET",
        "url": "https://x.test/?session=<redacted>",
        "headers": {"X-Team-Secret": ["<redacted>"]},
        "body": {"auth": {"pin": "<redacted>"}},
    }


def test_scrub_keeps_jsonl_exporter_output_in_its_own_shape(runner, tmp_path):
    row = {
        "timestamp": 1.0,
        "event_type": "llm_call",
        "agent_name": "a",
        "pattern_type": "",
        "payload": {"prompt": f"key {OPENAI_KEY}"},
    }
    path = tmp_path / "events.jsonl"
    path.write_bytes(orjson.dumps(row) + b"\n")
    assert runner.invoke(app, ["scrub", str(path)]).exit_code == 0
    assert orjson.loads(path.read_bytes()) == {**row, "payload": {"prompt": "key <redacted:openai-key>"}}


def test_scrub_rejects_a_bad_extra_option_in_one_line(runner, debate):
    result = runner.invoke(app, ["scrub", str(debate), "--body-path", "a..b"])
    assert result.exit_code == 2
    assert "body_paths entry 'a..b' is not a path" in result.stderr


# -- errors --------------------------------------------------------------------------------
COMMANDS = [["view"], ["stats"], ["html"], ["scrub"], ["diff", "GOOD"]]


def _run_error(runner, command, path, good):
    args = [good if a == "GOOD" else a for a in command]
    result = runner.invoke(app, [*args, str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    # Blank lines ignored: CliRunner swaps sys.stderr for the whole process, so a background
    # thread of an earlier test (an exporter, a framework's retry) may write into it.
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr.strip()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_file_is_one_line_with_exit_2(runner, tmp_path, debate, command):
    message = _run_error(runner, command, tmp_path / "nope.jsonl", str(debate))
    assert message.startswith("error: ")
    assert "nope.jsonl" in message
    assert "does not exist" in message


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_that_is_not_jsonl_is_one_line_with_exit_2(runner, tmp_path, debate, command):
    path = tmp_path / "notes.txt"
    path.write_text("These are my notes.\nNot JSON at all.\n")
    message = _run_error(runner, command, path, str(debate))
    assert "is not a JSONL trace file" in message
    assert "one JSON object per line" in message


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_line_names_file_and_line(runner, tmp_path, debate, command):
    path = tmp_path / "broken.jsonl"
    path.write_bytes(debate.read_bytes() + b'{"event_type": "llm_call", "agent_name": "x"\n')
    message = _run_error(runner, command, path, str(debate))
    assert f"{path}:9: not valid JSON" in message


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("content", [b"", b"\n\n", b'{"event_type": "recording_header", "format_version": 1}\n'])
def test_an_empty_recording_is_one_line_with_exit_2(runner, tmp_path, debate, command, content):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    message = _run_error(runner, command, path, str(debate))
    assert "holds no entries (an empty recording)" in message


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != ["html"]])  # html renders a folder of cassettes
def test_a_directory_is_one_line_with_exit_2(runner, tmp_path, debate, command):
    message = _run_error(runner, command, tmp_path, str(debate))
    assert "is a directory" in message


def test_a_non_object_line_and_a_bad_field_name_the_line(runner, tmp_path, debate):
    path = tmp_path / "x.jsonl"
    path.write_bytes(debate.read_bytes() + b"[1, 2]\n")
    assert f"{path}:9: expected a JSON object per line" in _run_error(runner, ["view"], path, "")
    path.write_bytes(debate.read_bytes() + b'{"event_type": "llm_call", "cost_usd": "free"}\n')
    assert f"{path}:9: 'cost_usd' must be a number" in _run_error(runner, ["view"], path, "")


# -- the script itself ---------------------------------------------------------------------
def test_no_arguments_shows_the_commands(runner):
    result = runner.invoke(app, [])
    for command in ("view", "stats", "diff", "html", "scrub"):
        assert command in result.output


def _python(code):
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)


def test_without_typer_the_script_says_what_to_install():
    result = _python("import sys; sys.modules['typer'] = None\nfrom pyagent_trace.cli import main\nmain()")
    assert result.returncode == 2
    assert "pip install 'pyagent-trace[cli]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_dash_m_runs_the_same_app(debate):
    result = subprocess.run(
        [sys.executable, "-m", "pyagent_trace.cli", "view", str(debate)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Trace: investment-analysis / debate (9.8s total, $0.01202)")


def test_importing_the_library_does_not_import_the_command_line():
    code = "import sys, pyagent_trace, pyagent_trace.trace_service, pyagent_trace.scrub\n"
    result = _python(code + "print('typer' in sys.modules, 'rich' in sys.modules)")
    assert result.stdout.strip() == "False False"
