"""The command line never shows a secret nor lets recorded text drive the terminal, and
``pyagent-trace audit`` finds each planted secret kind (exit 1) and none in our cassettes."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest
from test_scrub_secrets import SECRETS
from typer.testing import CliRunner

from pyagent_trace._recording import RecordEntry, save_entries
from pyagent_trace.cli import app
from pyagent_trace.cli._display import printable

ROOT = Path(__file__).resolve().parents[2]
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e"


@pytest.fixture
def runner():
    return CliRunner()


def call(agent: str = "writer", content: str = "hi", response: str = "ok", **metadata) -> RecordEntry:
    return RecordEntry("llm_call", agent_name=agent, model="gpt-4o-mini", input_tokens=3, output_tokens=2, tokens=5,
                       cost_usd=0.001, messages=[{"role": "user", "content": content}], response=response,
                       metadata=metadata)  # fmt: skip


def planted(tmp_path: Path, *entries: RecordEntry, name: str = "c.jsonl") -> Path:
    return save_entries(tmp_path / name, entries)  # written as is: no scrubber on this path


# -- audit ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "secret"), SECRETS.items())
def test_audit_exits_1_on_each_planted_key_kind_and_never_prints_it(runner, tmp_path, kind, secret):
    path = planted(tmp_path, call(), call(response=f"echo {secret}"))
    result = runner.invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{path}:3: {kind} in response" in result.output
    assert secret not in result.output


@pytest.mark.parametrize(
    ("entry", "finding"),
    [
        (call(api_key="v-12345678"), "secret-field in metadata.api_key"),
        (call(content='{"password": 1}', http={"request": {"headers": {"Authorization": ["Basic dXNlcjpwYXNz"]}}}),
         "secret-header in metadata.http.request.headers.Authorization"),
        (call(http={"request": {"url": "https://x.test/?key=abcdefgh12"}}),
         "secret-query-param in metadata.http.request.url?key"),
        (call(http={"response": {"body_base64": "AAEC" + "QUtJQVo3UTNYOVcyVjhNNEs2SjE="}}),
         "aws-access-key in metadata.http.response.body_base64"),
    ],
)  # fmt: skip
def test_audit_finds_secrets_by_name_and_in_binary_bodies(runner, tmp_path, entry, finding):
    path = planted(tmp_path, entry)
    result = runner.invoke(app, ["audit", str(path)])
    assert (result.exit_code, f"{path}:2: {finding}" in result.output) == (1, True), result.output


def test_audit_scans_a_line_that_is_not_json_and_recurses_into_folders(runner, tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "broken.jsonl").write_text('{"event_type": "llm_call"}\n{not json ' + SECRETS["openai-key"] + "\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.jsonl").write_text(SECRETS["openai-key"])  # hidden folders are skipped
    result = runner.invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"{nested / 'broken.jsonl'}:2: openai-key in (line)"
    assert "1 secret(s) in 1 of 1 file(s)" in result.output


def test_audit_json_and_github_formats_for_ci(runner, tmp_path):
    path = planted(tmp_path, call(content=SECRETS["github-token"]))
    as_json = runner.invoke(app, ["audit", "--format", "json", str(path)])
    assert as_json.exit_code == 1
    assert orjson.loads(as_json.output) == {
        "files_checked": 1,
        "findings": [{"file": str(path), "line": 2, "field": "messages[0].content", "kind": "github-token"}],
        "errors": [],
    }
    github = runner.invoke(app, ["audit", "--format", "github", str(path)])
    assert github.output.startswith(f"::error file={path},line=2,title=pyagent-trace audit::github-token in ")
    assert SECRETS["github-token"] not in github.output + as_json.output


def test_audit_passes_the_projects_committed_cassettes(runner):
    result = runner.invoke(app, ["audit", str(ROOT / "examples"), str(ROOT / "tests")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("No secrets in ")


def test_audit_of_a_missing_path_is_an_error_line_with_exit_2(runner, tmp_path):
    result = runner.invoke(app, ["audit", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "nope.jsonl: cannot be read" in result.output


def test_the_pre_commit_hook_runs_audit_on_jsonl_files():
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    for line in ("- id: pyagent-trace-audit", "entry: pyagent-trace audit", "language: python", r"files: \.jsonl$"):
        assert line in hooks


# -- what the commands print ----------------------------------------------------------------
def test_view_diff_stats_and_html_never_show_a_planted_key(runner, tmp_path):
    key = SECRETS["anthropic-key"]
    old = planted(tmp_path, call(), name="old.jsonl")
    new = planted(tmp_path, call(content=f"use {key}", response=f"ok {key}"), name="new.jsonl")
    outputs = [runner.invoke(app, ["diff", str(old), str(new)]).output]
    outputs += [runner.invoke(app, [command, str(new)]).output for command in ("view", "stats")]
    runner.invoke(app, ["html", str(new), "-o", str(tmp_path / "r.html")])
    outputs.append((tmp_path / "r.html").read_text())
    assert "<redacted:anthropic-key>" in outputs[0]
    assert [key in output for output in outputs] == [False] * 4


@pytest.mark.parametrize("agent", ["[/]", "[link=https://evil.test]click[/link]", f"a{ESCAPES}b", "[bold]x"])
def test_recorded_names_are_printed_as_text_by_every_command(runner, tmp_path, agent):
    old = planted(tmp_path, call(agent=agent), name="old.jsonl")
    new = planted(tmp_path, call(agent=agent, content=ESCAPES, response=f"new {ESCAPES}"), name="new.jsonl")
    results = [runner.invoke(app, [c, str(new)]) for c in ("view", "stats")]
    results.append(runner.invoke(app, ["diff", str(old), str(new)]))
    for result in results:
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert not any(ch in result.output for ch in "\x1b\x07\x9b\u202e")
        assert "\x1b]8;" not in result.output  # no live hyperlink
    assert printable(agent) in results[1].output  # stats shows the name as written, markup and all


def test_printable_keeps_tabs_and_newlines_and_shows_controls_as_escapes():
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable(ESCAPES) == "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e"


def test_scrub_removes_every_planted_kind_so_that_audit_then_passes(runner, tmp_path):
    binary = {"response": {"status": 200, "body_base64": base64.b64encode(b"\xff" + SECRETS["jwt"].encode()).decode()}}
    entries = [call(content=secret, response=f"x {secret}") for secret in SECRETS.values()]
    path = planted(tmp_path, *entries, call(http=binary), call(token="tok-123456789"))
    assert runner.invoke(app, ["scrub", str(path)]).exit_code == 0
    result = runner.invoke(app, ["audit", str(path)])
    assert (result.exit_code, result.output) == (0, "No secrets in 1 file(s).\n")
    text = path.read_text()
    assert [kind for kind, secret in SECRETS.items() if secret.split("\n")[0] in text] == []
