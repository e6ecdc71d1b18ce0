"""The HTML report in a real browser: headless Chromium renders it from disk, offline.

Chromium is Debian's ``chromium`` package (CI installs it in .ci/run). Page content comes
from ``--dump-dom``; console messages from ``--enable-logging=stderr``, where Chromium
prints every console call and uncaught error as an ``INFO:CONSOLE`` line.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from pyagent_trace._recording import RecordEntry, save_entries

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="needs headless Chromium: apt-get install -y chromium (CI installs it)",
)

GEMINI, CLAUDE = "gemini-2.5-flash", "claude-sonnet-4-20250514"
SCREENSHOT_SIZE = (1280, 900)
_CONSOLE = re.compile(r"CONSOLE.*|.*Uncaught.*|.*Refused to .*")


def _recording(tmp_path: Path) -> Path:
    """The docs' debate, plus the writer's call as an HTTP cassette entry."""
    rows = [
        ("bull", GEMINI, 450, 380, 0.00094, 2400.0),
        ("bear", GEMINI, 450, 410, 0.00098, 2700.0),
        ("bull", GEMINI, 410, 360, 0.00086, 2100.0),
        ("bear", GEMINI, 410, 380, 0.00084, 1900.0),
        ("judge", CLAUDE, 1200, 480, 0.00840, 700.0),
    ]
    entries = [RecordEntry("pattern_start", pattern_type="debate", metadata={"service_name": "investment-analysis"})]
    clock = 1_767_225_600.0
    for agent, model, inp, out, cost, ms in rows:
        clock += ms / 1000
        entries.append(
            RecordEntry(
                "llm_call", agent_name=agent, pattern_type="debate", model=model, timestamp=clock,
                duration_ms=ms, input_tokens=inp, output_tokens=out, tokens=inp + out, cost_usd=cost,
                messages=[{"role": "system", "content": f"Argue as {agent}."}, {"role": "user", "content": "NVDA?"}],
                response=f"{agent}: my case, round ends at {clock:.1f}",
            )
        )  # fmt: skip
    http = {
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/chat/completions",
            "headers": {"authorization": ["<redacted>"]},
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Write the brief"}]},
        },
        "response": {"status": 200, "reason": "OK", "headers": {}, "body": {"choices": []}},
    }
    entries.append(
        RecordEntry(
            "http_interaction", agent_name="writer", pattern_type="debate", model="gpt-4o-mini",
            timestamp=clock + 1.2, duration_ms=1200.0, input_tokens=60, output_tokens=85, tokens=145,
            cost_usd=0.00009, response="Brief: accumulate slowly.",
            metadata={"provider": "openai", "operation": "chat", "http": http},
        )
    )  # fmt: skip
    return save_entries(tmp_path / "debate.jsonl", entries)


def _report(tmp_path: Path) -> Path:
    out = tmp_path / "report.html"
    command = [sys.executable, "-m", "pyagent_trace.cli", "html", str(_recording(tmp_path)), "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # belt and braces: no name resolves, nothing leaves
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
        *args, page.as_uri(),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if _CONSOLE.search(line)]


def test_the_console_check_does_catch_errors(tmp_path):
    """Control: a page with a console.error and an uncaught exception is flagged."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><script>console.error("boom"); missing();</script></body></html>')
    lines = _console_lines(_chromium(tmp_path, page, "--dump-dom").stderr)
    assert any('"boom"' in line for line in lines)
    assert any("Uncaught ReferenceError" in line for line in lines)


def test_the_report_renders_every_agent_and_cost_without_console_errors(tmp_path):
    report = _report(tmp_path)
    result = _chromium(tmp_path, report, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _console_lines(result.stderr) == []
    dom = result.stdout
    assert 'data-ready="1"' in dom  # the page's script ran to its end
    assert "Trace: investment-analysis / debate" in dom
    for agent in ("bull", "bear", "judge", "writer"):
        assert f"<b>{agent}</b>" in dom
    for cost in ("$0.01211", "$0.00094", "$0.00840", "$0.00180", "$0.00182", "$0.00362", "$0.00009"):
        assert cost in dom
    assert "POST https://api.openai.com/v1/chat/completions → 200 OK" in dom
    assert dom.count('class="bar"') == 6
    assert dom.count('<details class="call"') == 6


def test_clicking_a_timeline_bar_opens_that_calls_messages(tmp_path):
    report = _report(tmp_path)
    page = tmp_path / "clicked.html"
    probe = (
        "<script>document.querySelectorAll('.bar')[2].click();"
        "var c = document.getElementById('call-3');"
        "document.body.setAttribute('data-probe', c.open + ' ' + c.classList.contains('selected'));</script>"
    )
    page.write_text(report.read_text().replace("</body>", probe + "</body>"))
    result = _chromium(tmp_path, page, "--dump-dom")
    assert _console_lines(result.stderr) == []
    assert 'data-probe="true true"' in result.stdout
    assert "Argue as bull." in result.stdout


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        msg = f"{path} is not a PNG"
        raise AssertionError(msg)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_screenshot_of_the_report_is_a_full_page_not_a_blank_one(tmp_path):
    report = _report(tmp_path)
    shot = tmp_path / "report.png"
    width, height = SCREENSHOT_SIZE
    result = _chromium(tmp_path, report, f"--screenshot={shot}", f"--window-size={width},{height}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _console_lines(result.stderr) == []
    assert _png_size(shot) == SCREENSHOT_SIZE
    assert shot.stat().st_size > 20_000  # a blank 1280x900 page is about 5 kB


def test_the_run_report_renders_every_test_and_links_each_cassette_page(tmp_path):
    """``html`` over a --cost-report (written by the plugin's own writer) and its cassettes:
    one Chromium launch renders the run page, dumps its DOM and takes a screenshot."""
    from pytest_pyagent_trace._summary import SessionReport, TestUsage

    debate = _recording(tmp_path / "cassettes" / "test_debate")  # writes debate.jsonl there
    report = SessionReport("none")
    for n, nodeid in enumerate(("tests/test_debate.py::test_debate", "tests/test_debate.py::test_debate_again")):
        report.add(
            TestUsage(
                nodeid, mode="none", cassette=str(debate.relative_to(tmp_path)), calls_replayed=6, cost_usd=0.0122 + n,
                tokens=5630, by_agent={"judge": {"calls": 1, "tokens": 1680, "cost_usd": 0.0084, "unpriced_calls": 0}},
            )
        )  # fmt: skip
    report.add(TestUsage("tests/test_gone.py::test_gone", mode="none", cassette="cassettes/gone.jsonl", missing=True))
    (tmp_path / "run.json").write_text(json.dumps(report.to_json()))
    out = tmp_path / "site" / "run.html"
    command = [sys.executable, "-m", "pyagent_trace.cli", "html", "run.json", "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, text=True, cwd=tmp_path)
    shot = tmp_path / "run.png"
    width, height = SCREENSHOT_SIZE

    result = _chromium(tmp_path, out, "--dump-dom", f"--screenshot={shot}", f"--window-size={width},{height}")

    assert result.returncode == 0, result.stderr[-2000:]
    assert _console_lines(result.stderr) == []
    dom = result.stdout
    assert 'data-ready="1"' in dom
    for nodeid in report.tests:
        assert f">{nodeid}<" in dom
    links = re.findall(r'<a href="([^"#]+)">', dom)
    assert links == ["run-cassettes/cassettes/test_debate/debate.jsonl.html"] * 2
    assert all((out.parent / unquote(link)).is_file() for link in links)
    assert "cassette missing" in dom
    assert _png_size(shot) == SCREENSHOT_SIZE
    assert shot.stat().st_size > 20_000  # a blank 1280x900 page is about 5 kB
