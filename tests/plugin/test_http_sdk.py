"""Raw provider SDK calls in a marked test: recorded into the test's cassette at the HTTP
level, replayed offline, costed, budgeted and in the span tree, with no change to the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_server import running_fake_server
from plugin_testing import run

KEY = "sk-test-HTTPSECRET0123456789abcdef"

TEST_CHAT = f'''
import os
import openai
import pytest

def ask(text):
    client = openai.OpenAI(api_key="{KEY}", base_url=os.environ["FAKE_BASE"] + "/v1", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": text}}])
    return reply.choices[0].message.content

@pytest.mark.cassette
@pytest.mark.cost_budget(usd=0.01, calls=1)
def test_chat(cost_tracker, span_tree):
    assert ask(os.environ.get("PROMPT", "hello there"))
    assert cost_tracker.call_count == 1
    assert cost_tracker.by_model().keys() == {{"gpt-4o-mini"}}
    assert [node["name"] for node in span_tree.value] == ["chat gpt-4o-mini"]
'''


@pytest.fixture
def fake_server():
    yield from running_fake_server()


@pytest.fixture
def recorded(project, fake_server, monkeypatch):
    project.makepyfile(test_sdk=TEST_CHAT)
    monkeypatch.setenv("FAKE_BASE", fake_server.url)
    result = run(project, "--record-mode=once")
    result.assert_outcomes(passed=1)
    fake_server.stop()
    monkeypatch.setenv("FAKE_BASE", "https://api.openai.com")  # replay must not need the server
    return project


def _cassette(project) -> Path:
    return project.path / "cassettes" / "test_sdk" / "test_chat.jsonl"


def test_an_sdk_call_is_recorded_as_an_http_entry_with_usage_and_no_key(recorded):
    text = _cassette(recorded).read_text()
    assert KEY not in text
    rows = [json.loads(line) for line in text.splitlines()]
    (entry,) = [r for r in rows if r["event_type"] == "http_interaction"]
    assert entry["model"].startswith("gpt-4o-mini")
    assert entry["input_tokens"] > 0
    assert entry["metadata"]["provider"] == "openai"
    assert entry["metadata"]["http"]["request"]["headers"]["authorization"] == ["<redacted>"]


def test_replay_passes_offline_with_the_same_cost_and_spans(recorded):
    result = run(recorded, "--replay")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 calls replayed, 0 recorded*"])


def test_a_request_not_in_the_cassette_fails_with_a_diff_not_a_connection_error(recorded, monkeypatch):
    monkeypatch.setenv("PROMPT", "a different question")
    result = run(recorded, "--replay")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*hello there*", "*a different question*", "*Re-record the cassette with: pytest --record*"]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_missing_cassette_names_the_command_that_records_it(project, monkeypatch):
    project.makepyfile(test_sdk=TEST_CHAT)
    monkeypatch.setenv("FAKE_BASE", "https://api.openai.com")
    result = run(project, "--replay")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_chat.jsonl does not exist. Record it with: pytest --record-mode=once*"])


def test_ini_scrub_options_redact_the_users_own_secrets(project, fake_server, monkeypatch):
    project.makepyfile(
        test_tenant=f'''
import os
import openai
import pytest

@pytest.mark.cassette
def test_tenant():
    client = openai.OpenAI(api_key="{KEY}", base_url=os.environ["FAKE_BASE"] + "/v1", max_retries=0,
                           default_headers={{"x-tenant-token": "tenant-secret-42"}})
    client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}], user="alice-42")
'''
    )
    project.makefile(
        ".ini",
        pytest="\n".join(
            [
                "[pytest]",
                "pythonpath = .",
                "asyncio_default_fixture_loop_scope = function",
                "pyagent_trace_scrub_headers = x-tenant-token",
                "pyagent_trace_scrub_body_paths = user",
            ]
        ),
    )
    monkeypatch.setenv("FAKE_BASE", fake_server.url)
    run(project, "--record-mode=once").assert_outcomes(passed=1)
    text = (project.path / "cassettes" / "test_tenant" / "test_tenant.jsonl").read_text()
    assert "tenant-secret-42" not in text
    assert "alice-42" not in text
    assert KEY not in text


TEST_TWO_PROVIDERS = f'''
import os
import anthropic
import openai
import pytest

@pytest.mark.cassette
def test_two():
    base = os.environ["FAKE_BASE"]
    openai.OpenAI(api_key="{KEY}", base_url=base + "/v1", max_retries=0).chat.completions.create(
        model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}]
    )
    anthropic.Anthropic(api_key="{KEY}", base_url=base, max_retries=0).messages.create(
        model="claude-haiku-4-5", max_tokens=50, messages=[{{"role": "user", "content": "hi"}}]
    )
'''


def test_re_recording_unchanged_http_calls_gives_a_byte_identical_cassette(project, fake_server, monkeypatch):
    """date headers, durations, timestamps and trace context differ between recordings; the file does not."""
    project.makepyfile(test_two=TEST_TWO_PROVIDERS)
    monkeypatch.setenv("FAKE_BASE", fake_server.url)
    port = int(fake_server.url.rsplit(":", 1)[1])
    run(project, "--record-mode=once").assert_outcomes(passed=1)
    cassette = project.path / "cassettes" / "test_two" / "test_two.jsonl"
    first = cassette.read_bytes()
    fake_server.stop()
    fake_server.start(port)  # the same deterministic answers again, a second later

    run(project, "--record").assert_outcomes(passed=1)

    assert b"traceparent" not in first
    assert cassette.read_bytes() == first


TEST_ANTHROPIC_SPANS = f'''
import os
import anthropic
import pytest

@pytest.mark.cassette
def test_claude(span_tree, snapshot, cost_tracker):
    client = anthropic.Anthropic(api_key="{KEY}", base_url=os.environ["FAKE_BASE"], max_retries=0)
    client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=[{{"role": "user", "content": "hi"}}])
    calls = [n for n in span_tree.value if n["kind"] == "CLIENT"]
    assert [n["name"] for n in calls] == ["anthropic.messages.create"], span_tree.value  # the SDK's own span
    assert sum("gen_ai.usage.input_tokens" in n["attributes"] for n in calls) == 1
    assert calls[0]["attributes"]["pyagent.cost.total_usd"] > 0
    assert cost_tracker.call_count == 1
    assert span_tree == snapshot
'''


def test_a_call_the_anthropic_sdk_already_spans_gets_no_second_usage_span(project, fake_server, monkeypatch):
    """anthropic 2.x spans its calls with gen_ai.usage: that span carries our cost; replay gives the same tree."""
    project.makepyfile(test_claude=TEST_ANTHROPIC_SPANS)
    monkeypatch.setenv("FAKE_BASE", fake_server.url)
    run(project, "--record-mode=once", "--snapshot-update").assert_outcomes(passed=1)
    fake_server.stop()

    run(project).assert_outcomes(passed=1)
