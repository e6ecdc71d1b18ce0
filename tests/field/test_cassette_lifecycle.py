"""A cassette's life in a user's project: stale files and test selection, bad markers,
tests that make no call, span fixtures switched off, and an SDK replayed with no key."""

from __future__ import annotations

import os
import shutil

from field_project import FieldProject

FORBID = {"FAKE_LLM_FORBID": "1"}

THREE_TESTS = """
import pytest
from fake_llm import FakeLLM, ask


@pytest.mark.cassette
async def test_one(cassette):
    assert await cassette.llm(FakeLLM(), agent_name="a")(ask("one")) == "reply: one"


@pytest.mark.cassette
async def test_two(cassette):
    assert await cassette.llm(FakeLLM(), agent_name="a")(ask("two")) == "reply: two"


@pytest.mark.cassette
async def test_three(cassette):
    assert await cassette.llm(FakeLLM(), agent_name="a")(ask("three")) == "reply: three"
"""
STALE = "no collected test uses"


def test_selecting_tests_never_calls_siblings_cassettes_stale_but_a_whole_run_finds_orphans(field: FieldProject):
    """Under --strict-cassettes a node id or -k selection passes without stale reports, while a whole-module run
    reports a real orphan cassette and exits 1."""
    field.with_fake_llm().configure('asyncio_mode = "auto"')
    field.write("test_x.py", THREE_TESTS)
    recorded = field.pytest("--record-mode=once")
    assert recorded.outcomes() == {"passed": 3}, recorded
    orphan = field.cassette("test_x", "test_gone")
    shutil.copy(field.cassette("test_x", "test_one"), orphan)  # a test that was deleted

    by_id = field.pytest("test_x.py::test_two", "--strict-cassettes", env=FORBID)
    assert by_id.ret == 0, by_id
    assert by_id.outcomes() == {"passed": 1}, by_id
    assert STALE not in by_id.stdout, by_id

    by_k = field.pytest("-k", "two", "--strict-cassettes", env=FORBID)
    assert by_k.ret == 0, by_k
    assert by_k.outcomes() == {"passed": 1, "deselected": 2}, by_k
    assert STALE not in by_k.stdout, by_k

    whole = field.pytest("--strict-cassettes", env=FORBID)
    assert whole.ret == 1, whole
    assert whole.outcomes() == {"passed": 3}, whole
    assert f"1 cassettes {STALE}:" in whole.stdout, whole
    assert "  cassettes/test_x/test_gone.jsonl" in whole.stdout, whole
    for sibling in ("test_one", "test_two", "test_three"):
        assert f"cassettes/test_x/{sibling}.jsonl" not in whole.stdout, whole


BAD_MARKERS = """
import pytest


@pytest.mark.cassette(record_mod="new")
def test_typo(cassette):
    pass


@pytest.mark.cassette(path=123)
def test_path_number(cassette):
    pass


@pytest.mark.cassette("loop.jsonl")
def test_loop(cassette):
    pass


def test_fine():
    pass


@pytest.mark.cassette
def test_fine_cassette(cassette):
    assert cassette.mode.value == "none"
"""


def test_bad_markers_and_unusable_cassette_paths_fail_only_their_own_test(field: FieldProject):
    """A misspelt marker argument, a non-string path and a symlink-loop cassette each fail their own test with a one-
    line message; the rest of the run passes."""
    field.configure()
    field.write("test_bad.py", BAD_MARKERS)
    os.symlink("loop.jsonl", field.path / "loop.jsonl")
    result = field.pytest()
    assert result.ret == 1, result
    assert result.outcomes() == {"passed": 2, "error": 3}, result
    expected = {
        "test_typo": "test_bad.py::test_typo: @pytest.mark.cassette: unknown argument 'record_mod'",
        "test_path_number": "test_bad.py::test_path_number: @pytest.mark.cassette: path=123 is a int",
        "test_loop": "cannot be resolved",
    }
    for test, message in expected.items():
        report = result.report_of(test)
        assert message in report, result
        assert len(report.splitlines()) == 1, result
    assert "INTERNALERROR" not in result.output, result
    assert "Traceback" not in result.output, result


def test_a_cassette_test_that_makes_no_call_is_reported_as_such_not_as_missing(field: FieldProject):
    """A cassette test that calls no LLM passes in replay with a 'made no LLM calls' note, not a missing cassette, and
    `--record-mode=once` writes no file for it."""
    field.configure()
    field.write(
        "test_quiet.py",
        """
        import pytest


        @pytest.mark.cassette
        def test_quiet(cassette):
            assert cassette.calls_replayed == 0
        """,
    )
    replayed = field.pytest()
    assert replayed.ret == 0, replayed
    assert replayed.outcomes() == {"passed": 1}, replayed
    assert "0 missing" in replayed.stdout, replayed
    assert "cassettes missing" not in replayed.stdout, replayed
    quiet = next(line for line in replayed.stdout.splitlines() if "made no LLM calls" in line)
    assert "test_quiet.py::test_quiet" in quiet, replayed

    recorded = field.pytest("--record-mode=once")
    assert recorded.ret == 0, recorded
    assert recorded.outcomes() == {"passed": 1}, recorded
    assert "made no LLM calls" in recorded.stdout, recorded
    assert not field.cassette("test_quiet", "test_quiet").exists(), recorded
    assert list(field.path.rglob("*.jsonl")) == [], recorded


def test_span_fixtures_fail_saying_otel_sdk_disabled_is_set(field: FieldProject):
    """With OTEL_SDK_DISABLED=true a test using `spans` fails naming the variable, instead of seeing no spans; other
    tests pass."""
    field.configure()
    field.write(
        "test_spans.py",
        """
        def test_spans(spans):
            assert spans.names == []


        def test_plain():
            pass
        """,
    )
    result = field.pytest(env={"OTEL_SDK_DISABLED": "true"})
    assert result.ret == 1, result
    assert result.outcomes() == {"passed": 1, "error": 1}, result
    report = result.report_of("test_spans")
    assert "OTEL_SDK_DISABLED is set" in report, result
    assert len(report.splitlines()) == 1, result
    assert "Traceback" not in result.output, result


KEY = "sk-test-FIELDSECRET0123456789abcdef"

SDK_TEST = """
import os

import openai
import pytest


def test_before():
    assert "OPENAI_API_KEY" not in os.environ or os.environ["OPENAI_API_KEY"].startswith("sk-test-")


@pytest.mark.cassette
def test_chat(cost_tracker):
    client = openai.OpenAI(base_url=os.environ["FAKE_BASE"] + "/v1", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content
    assert reply.usage.prompt_tokens == 120
    assert cost_tracker.call_count == 1


def test_after():
    assert "OPENAI_API_KEY" not in os.environ or os.environ["OPENAI_API_KEY"].startswith("sk-test-")
"""


def test_an_sdk_test_recorded_with_a_key_replays_with_no_key_and_no_server(field: FieldProject, fake_server):
    """An OpenAI SDK test recorded with OPENAI_API_KEY replays under plain `pytest` with no key and the server stopped,
    and the cassette holds no key."""
    field.configure()
    field.write("test_sdk.py", SDK_TEST)
    base = fake_server.url
    recorded = field.pytest("--record-mode=once", env={"OPENAI_API_KEY": KEY, "FAKE_BASE": base})
    assert recorded.ret == 0, recorded
    assert recorded.outcomes() == {"passed": 3}, recorded
    cassette = field.cassette("test_sdk", "test_chat")
    assert len(field.entries(cassette, "http_interaction")) == 1, recorded
    assert KEY not in cassette.read_text()

    fake_server.stop()
    replayed = field.pytest(env={"FAKE_BASE": base})
    assert replayed.ret == 0, replayed
    assert replayed.outcomes() == {"passed": 3}, replayed
    assert "1 calls replayed, 0 recorded" in replayed.stdout, replayed
    assert KEY not in cassette.read_text()
