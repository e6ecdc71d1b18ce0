"""Ways users start pytest: each one finds the plugin (or not, when told) and replays."""

from __future__ import annotations

from pathlib import Path

import pytest
from field_project import BASE_ADDOPTS, FieldProject
from scenarios import AGENT_CALLS, AGENT_CASSETTES, AGENT_TESTS, VCR_AND_CASSETTE

REPLAYED = f"{AGENT_CALLS} calls replayed, 0 recorded"
FORBID = {"FAKE_LLM_FORBID": "1"}


def _agent_project(project: FieldProject, *config: str, addopts: str = BASE_ADDOPTS) -> FieldProject:
    project.with_fake_llm().configure('asyncio_mode = "auto"', *config, addopts=addopts)
    project.write("test_agent.py", AGENT_TESTS)
    return project


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose two cassette tests were recorded once (shared by this module's tests)."""
    project = _agent_project(FieldProject(tmp_path_factory.mktemp("recorded")))
    result = project.pytest("--record-mode=once")
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    for test in AGENT_CASSETTES:
        assert project.cassette("test_agent", test).is_file(), result
    return project.path


def _assert_replayed(result) -> None:
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    assert REPLAYED in result.stdout, result


def test_plain_pytest_replays_recorded_cassettes(field, recorded):
    """Plain `pytest` with no argument replays the committed cassettes without calling the LLM."""
    field.copy_from(recorded)
    result = field.pytest(env=FORBID)
    _assert_replayed(result)
    assert "mode none:" in result.stdout, result


def test_python_dash_m_pytest_replays_recorded_cassettes(field, recorded):
    """`python -m pytest` loads the plugin and replays exactly as the console script does."""
    field.copy_from(recorded)
    result = field.pytest(env=FORBID, module=True)
    _assert_replayed(result)


def test_pytest_addopts_environment_variable_is_honoured(field, recorded):
    """`PYTEST_ADDOPTS=-q pytest` runs quietly and still replays every cassette."""
    field.copy_from(recorded)
    result = field.pytest(env={**FORBID, "PYTEST_ADDOPTS": "-q"})
    _assert_replayed(result)
    assert "test session starts" not in result.stdout, result


@pytest.mark.parametrize(
    ("config", "addopts"),
    [
        pytest.param((), f"{BASE_ADDOPTS} --record-mode=once", id="ini-addopts"),
        pytest.param(('pyagent_trace_record_mode = "once"',), BASE_ADDOPTS, id="ini-record-mode"),
    ],
)
def test_record_mode_once_from_config_records_then_replays(field, config, addopts):
    """A record mode of `once` in the project config records on the first plain run and replays on the next."""
    _agent_project(field, *config, addopts=addopts)
    first = field.pytest()
    assert first.ret == 0, first
    assert first.outcomes() == {"passed": 2}, first
    assert f"0 calls replayed, {AGENT_CALLS} recorded" in first.stdout, first
    assert [len(field.entries(field.cassette("test_agent", t))) for t in AGENT_CASSETTES] == [1, 2]
    second = field.pytest(env=FORBID)
    _assert_replayed(second)


def test_p_no_pyagent_trace_disables_the_plugin(field):
    """`pytest -p no:pyagent_trace` runs plain tests and offers none of the plugin's fixtures."""
    field.configure()
    field.write(
        "test_plain.py",
        """
        def test_plain():
            assert 1 + 1 == 2

        def test_wants_cassette(cassette):
            pass
        """,
    )
    result = field.pytest("-p", "no:pyagent_trace")
    assert result.ret == 1, result
    assert result.outcomes() == {"passed": 1, "error": 1}, result
    assert "fixture 'cassette' not found" in result.stdout, result
    plugins = next(line for line in result.stdout.splitlines() if line.startswith("plugins:"))
    assert "pyagent-trace" not in plugins, result
    assert "recording" in plugins, result


@pytest.mark.parametrize(
    "plugins",
    [
        pytest.param(("-p", "pyagent_trace", "-p", "recording"), id="ours-first"),
        pytest.param(("-p", "recording", "-p", "pyagent_trace"), id="recording-first"),
    ],
)
def test_autoload_off_with_both_plugins_named_records_and_replays(field, fake_server, plugins):
    """With PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 and both plugins named with -p (either order), a vcr test and a cassette test record and replay side by side."""
    field.with_fake_llm().configure(asyncio_scope=False)  # pytest-asyncio is not loaded
    field.write("test_mixed.py", VCR_AND_CASSETTE)
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "FAKE_BASE": fake_server.url}
    first = field.pytest(*plugins, "--record-mode=once", env=env)
    assert first.ret == 0, first
    assert first.outcomes() == {"passed": 2}, first
    assert (field.path / "cassettes" / "test_mixed" / "test_weather_api.yaml").is_file(), first
    assert len(field.entries(field.cassette("test_mixed", "test_agent"))) == 1, first
    fake_server.stop()  # replay must need neither the server nor the LLM
    second = field.pytest(*plugins, env={**env, **FORBID})
    assert second.ret == 0, second
    assert second.outcomes() == {"passed": 2}, second
    assert "1 calls replayed, 0 recorded" in second.stdout, second


@pytest.mark.parametrize(
    ("addopts", "env", "args"),
    [
        pytest.param(BASE_ADDOPTS, {}, ("--record", "--replay"), id="command-line"),
        pytest.param(f"{BASE_ADDOPTS} --record", {}, ("--replay",), id="ini-addopts"),
        pytest.param(BASE_ADDOPTS, {"PYTEST_ADDOPTS": "--replay"}, ("--record",), id="PYTEST_ADDOPTS"),
        pytest.param(BASE_ADDOPTS, {}, ("--record-mode=new", "--replay"), id="record-mode-and-replay"),
    ],
)
def test_contradicting_record_and_replay_is_a_usage_error(field, addopts, env, args):
    """Asking for recording and replay at once, wherever each comes from, stops pytest with a usage error."""
    field.configure(addopts=addopts)
    field.write("test_plain.py", "def test_plain():\n    pass\n")
    result = field.pytest(*args, env=env)
    assert result.ret == 4, result
    assert "contradict" in result.stderr, result
    assert "passed" not in result.stdout, result
    assert "INTERNALERROR" not in result.output, result
