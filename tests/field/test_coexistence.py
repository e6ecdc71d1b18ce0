"""The plugin beside the pytest plugins users already have: pytest-recording,
pytest-rerunfailures, pytest-asyncio (strict and auto) and pytest-xdist."""

from __future__ import annotations

import shutil

import pytest
from field_project import BASE_ADDOPTS
from scenarios import AGENT_CALLS

FORBID = {"FAKE_LLM_FORBID": "1"}

MODES = """
import os

import pytest


@pytest.mark.vcr
def test_vcr_mode(record_mode):
    assert record_mode == os.environ["EXPECT_VCR"]


@pytest.mark.cassette
def test_our_mode(cassette):
    assert cassette.mode.value == os.environ["EXPECT_OURS"]
"""


@pytest.mark.parametrize(
    ("flag", "ours", "theirs"),
    [
        pytest.param("--record-mode=new", "new", "new_episodes", id="new"),
        pytest.param("--record-mode=new_episodes", "new", "new_episodes", id="new_episodes"),
        pytest.param("--record-mode=rewrite", "all", "rewrite", id="rewrite"),
        pytest.param("--record", "all", "rewrite", id="record"),
    ],
)
def test_one_record_mode_flag_drives_both_plugins(field, flag, ours, theirs):
    """One mode flag, in either plugin's words, sets our cassette mode and pytest-recording's mode to the same
    meaning."""
    field.configure()
    field.write("test_modes.py", MODES)
    result = field.pytest(flag, env={"EXPECT_OURS": ours, "EXPECT_VCR": theirs})
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    assert f"mode {ours}:" in result.stdout, result


def test_vcr_and_cassette_tests_record_and_replay_in_one_suite(field, recorded_mixed):
    """With both plugins autoloaded, a vcr test and a cassette test recorded by one `--record-mode=once` run both
    replay under plain pytest, offline."""
    path, base = recorded_mixed  # recorded with both plugins autoloaded; its server is stopped
    field.copy_from(path)
    result = field.pytest(env={**FORBID, "FAKE_BASE": base})
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    assert "1 calls replayed, 0 recorded" in result.stdout, result


FLAKY = """
import pathlib

import pytest
from fake_llm import FakeLLM, ask


@pytest.mark.cassette
async def test_flaky(cassette, cost_tracker):
    llm = cassette.llm(FakeLLM(), agent_name="writer")
    assert await llm(ask("hello")) == "reply: hello"
    assert cost_tracker.call_count == 1, f"this attempt counted {cost_tracker.call_count} calls"
    marker = pathlib.Path(__file__).with_name("first_attempt_done")
    if not marker.exists():
        marker.write_text("")
        raise AssertionError("flaky: the first attempt fails")
"""


def test_a_rerun_starts_fresh_when_recording_and_when_replaying(field):
    """Under pytest-rerunfailures a test that fails once then passes records exactly one call (modes new and all), and
    its replayed rerun counts one call, not two."""
    field.with_fake_llm().configure('asyncio_mode = "auto"', addopts=f"{BASE_ADDOPTS} --reruns 1")
    field.write("test_flaky.py", FLAKY)
    first_attempt_done = field.path / "first_attempt_done"
    cassette = field.cassette("test_flaky", "test_flaky")
    for mode in ("new", "all"):
        first_attempt_done.unlink(missing_ok=True)
        recorded = field.pytest(f"--record-mode={mode}")
        assert recorded.ret == 0, recorded
        assert recorded.outcomes() == {"passed": 1, "rerun": 1}, recorded
        assert [c["messages"][-1]["content"] for c in field.entries(cassette)] == ["hello"], recorded

    first_attempt_done.unlink()
    replayed = field.pytest(env=FORBID)
    assert replayed.ret == 0, replayed
    assert replayed.outcomes() == {"passed": 1, "rerun": 1}, replayed
    assert "counted 2 calls" not in replayed.stdout, replayed


ASYNC_STRICT = """
import pytest
from fake_llm import FakeLLM, ask


@pytest.mark.asyncio
@pytest.mark.cassette
async def test_marked(cassette):
    llm = cassette.llm(FakeLLM(), agent_name="writer")
    assert await llm(ask("marked")) == "reply: marked"


@pytest.mark.cassette
async def test_unmarked(cassette):
    llm = cassette.llm(FakeLLM(), agent_name="writer")
    assert await llm(ask("marked")) == "reply: marked"
"""

STRICT_HINT = "pytest-asyncio in strict mode runs only tests marked @pytest.mark.asyncio"


def test_asyncio_strict_mode_runs_marked_cassette_tests_and_explains_unmarked_ones(field):
    """In pytest-asyncio strict mode a marked async cassette test records and replays; an unmarked one fails with a
    hint, not a stale-cassette warning."""
    field.with_fake_llm().configure('asyncio_mode = "strict"')
    field.write("test_async.py", ASYNC_STRICT)
    recorded = field.pytest("--record-mode=once")
    assert recorded.ret == 1, recorded
    assert recorded.outcomes() == {"passed": 1, "failed": 1}, recorded
    assert STRICT_HINT in recorded.stdout, recorded
    marked = field.cassette("test_async", "test_marked")
    assert len(field.entries(marked)) == 1, recorded
    # The unmarked test has a cassette with a call it will never make while unmarked.
    shutil.copy(marked, field.cassette("test_async", "test_unmarked"))

    replayed = field.pytest(env=FORBID)
    assert replayed.ret == 1, replayed
    assert replayed.outcomes() == {"passed": 1, "failed": 1}, replayed
    assert "FAILED test_async.py::test_unmarked" in replayed.stdout, replayed
    assert STRICT_HINT in replayed.stdout, replayed
    assert "were never used" not in replayed.output, replayed
    assert "1 calls replayed, 0 recorded" in replayed.stdout, replayed


def test_asyncio_auto_mode_runs_unmarked_async_cassette_tests(field, recorded_agents):
    """In pytest-asyncio auto mode unmarked async cassette tests (recorded with --record-mode=once) replay without the
    LLM."""
    field.copy_from(recorded_agents)  # its pyproject.toml says asyncio_mode = "auto"
    assert 'asyncio_mode = "auto"' in (field.path / "pyproject.toml").read_text()
    replayed = field.pytest(env=FORBID)
    assert replayed.ret == 0, replayed
    assert replayed.outcomes() == {"passed": 2}, replayed
    assert f"{AGENT_CALLS} calls replayed, 0 recorded" in replayed.stdout, replayed
    assert "asyncio: mode=Mode.AUTO" in replayed.stdout, replayed


def test_xdist_from_ini_addopts_replays(field, recorded_agents):
    """With `-n 2` in the project's addopts, plain pytest replays cassettes recorded with --record-mode=once."""
    field.copy_from(recorded_agents)
    field.configure('asyncio_mode = "auto"', addopts=f"{BASE_ADDOPTS} -n 2")
    shutil.copy(field.path / "test_agent.py", field.path / "test_agent_too.py")
    shutil.copytree(field.path / "cassettes" / "test_agent", field.path / "cassettes" / "test_agent_too")
    replayed = field.pytest(env=FORBID)
    assert replayed.ret == 0, replayed
    assert "2 workers" in replayed.stdout, replayed
    assert replayed.outcomes() == {"passed": 4}, replayed
    assert f"{2 * AGENT_CALLS} calls replayed, 0 recorded" in replayed.stdout, replayed
