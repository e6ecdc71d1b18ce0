"""Ways users start pytest: each one finds the plugin (or not, when told) and replays."""

from __future__ import annotations

import pytest
from field_project import BASE_ADDOPTS, FieldProject
from scenarios import AGENT_CALLS, AGENT_CASSETTES, AGENT_TESTS

REPLAYED = f"{AGENT_CALLS} calls replayed, 0 recorded"
FORBID = {"FAKE_LLM_FORBID": "1"}


def _agent_project(project: FieldProject, *config: str, addopts: str = BASE_ADDOPTS) -> FieldProject:
    project.with_fake_llm().configure('asyncio_mode = "auto"', *config, addopts=addopts)
    project.write("test_agent.py", AGENT_TESTS)
    return project


def _assert_replayed(result) -> None:
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    assert REPLAYED in result.stdout, result


def test_plain_pytest_replays_recorded_cassettes(field, recorded_agents):
    """Plain `pytest` with no argument replays the committed cassettes without calling the LLM."""
    field.copy_from(recorded_agents)
    result = field.pytest(env=FORBID)
    _assert_replayed(result)
    assert "mode none:" in result.stdout, result


def test_python_dash_m_pytest_replays_recorded_cassettes(field, recorded_agents):
    """`python -m pytest` loads the plugin and replays exactly as the console script does."""
    field.copy_from(recorded_agents)
    result = field.pytest(env=FORBID, module=True)
    _assert_replayed(result)


def test_pytest_addopts_environment_variable_is_honoured(field, recorded_agents):
    """`PYTEST_ADDOPTS=-q pytest` runs quietly and still replays every cassette."""
    field.copy_from(recorded_agents)
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


def test_autoload_off_with_the_plugin_in_ini_addopts_replays_under_plain_pytest(field, recorded_agents):
    """With PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 and `-p pyagent_trace -p asyncio` in the project's addopts, plain
    `pytest` with no argument starts and replays."""
    field.copy_from(recorded_agents)
    field.configure('asyncio_mode = "auto"', addopts=f"{BASE_ADDOPTS} -p pyagent_trace -p asyncio")
    result = field.pytest(env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **FORBID})
    _assert_replayed(result)
    assert "Error while loading plugin" not in result.output, result


def test_autoload_off_with_the_plugin_in_pytest_plugins_starts_with_no_arguments_at_all(field):
    """With PYTEST_DISABLE_PLUGIN_AUTOLOAD=1, the plugin named only in PYTEST_PLUGINS and no addopts, a bare
    `pytest` starts and the plugin serves a cassette test."""
    field.configure(addopts="", asyncio_scope=False)  # nothing on any command line: the point of this test
    field.write(
        "test_plain.py",
        """
        import pytest


        @pytest.mark.cassette
        def test_ours(cassette):
            assert cassette.mode.value == "none"
        """,
    )
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTEST_PLUGINS": "pytest_pyagent_trace.plugin"}
    result = field.pytest(env=env)
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 1}, result
    assert "made no LLM calls" in result.stdout, result


OURS, RECORDING = ("-p", "pyagent_trace"), ("-p", "recording")


@pytest.mark.parametrize(
    ("args", "addopts", "env", "conftest"),
    [
        pytest.param((*OURS, *RECORDING), BASE_ADDOPTS, {}, "", id="command-line-ours-first"),
        pytest.param((*RECORDING, *OURS), BASE_ADDOPTS, {}, "", id="command-line-recording-first"),
        pytest.param((), f"{BASE_ADDOPTS} -p pyagent_trace -p recording", {}, "", id="ini-addopts-ours-first"),
        pytest.param((), f"{BASE_ADDOPTS} -p recording -p pyagent_trace", {}, "", id="ini-addopts-recording-first"),
        pytest.param(
            (),
            BASE_ADDOPTS,
            {"PYTEST_PLUGINS": "pytest_pyagent_trace.plugin,pytest_recording.plugin"},
            "",
            id="PYTEST_PLUGINS",
        ),
        pytest.param(OURS, BASE_ADDOPTS, {}, 'pytest_plugins = ["pytest_recording.plugin"]\n', id="conftest"),
    ],
)
def test_autoload_off_with_both_plugins_named_replays_both_kinds_of_cassette(
    field, recorded_mixed, args, addopts, env, conftest
):
    """With PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 and both plugins named (with -p on the command line or in addopts, in
    either order, in PYTEST_PLUGINS, or in a conftest), pytest starts and a vcr test and a cassette test replay side
    by side."""
    path, base = recorded_mixed  # its fake server is stopped: replay must not need it
    field.copy_from(path)
    field.configure(addopts=addopts, asyncio_scope=False)  # pytest-asyncio is not loaded
    if conftest:
        field.write("conftest.py", conftest)
    result = field.pytest(*args, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "FAKE_BASE": base, **FORBID, **env})
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    assert "1 calls replayed, 0 recorded" in result.stdout, result
    assert "asyncio: mode=" not in result.stdout, result  # autoload really was off: no pytest-asyncio


@pytest.mark.parametrize(
    ("addopts", "env", "args"),
    [
        pytest.param(BASE_ADDOPTS, {}, ("--record", "--replay"), id="command-line"),
        pytest.param(f"{BASE_ADDOPTS} --record", {}, ("--replay",), id="ini-addopts"),
        pytest.param(BASE_ADDOPTS, {"PYTEST_ADDOPTS": "--record-mode=new"}, ("--replay",), id="PYTEST_ADDOPTS"),
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
