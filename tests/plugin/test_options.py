"""Options, ini keys and markers: documented in --help, markers registered for
--strict-markers, bad values rejected as clean usage errors, the plugin can be disabled."""

from __future__ import annotations

import pytest
from plugin_testing import run, write_ini


def test_help_shows_the_group_its_options_and_ini_keys(project):
    """pytest --help lists the pyagent-trace group, every option and every ini key."""
    result = run(project, "-p", "no:recording", "--help")

    result.stdout.fnmatch_lines(
        [
            "pyagent-trace: record/replay LLM calls, cost budgets, span assertions:",
            "*--record-mode={none,once,new,all,check}*",
            "*--block-network*",
            "*--record *Re-record every cassette*",
            "*--replay *Replay only*",
            "*--allow-network*",
            "*--strict-cassettes*",
            "*--cost-report=PATH*",
        ]
    )
    for key in (
        "record_mode",
        "cassette_dir",
        "match",
        "allowed_hosts",
        "block_network",
        "drift_fail",
        "cost_regression",
    ):
        result.stdout.fnmatch_lines([f"  pyagent_trace_{key} (*):"])


def test_markers_are_registered_for_strict_markers(project):
    """cassette and cost_budget are known markers, so --strict-markers accepts them and --markers lists them."""
    project.makepyfile(
        test_marked="""
        import pytest

        @pytest.mark.cassette("x.jsonl", record_mode="once")
        @pytest.mark.cost_budget(usd=1)
        def test_marked():
            pass
        """
    )

    run(project, "--strict-markers").assert_outcomes(passed=1)
    run(project, "--markers").stdout.fnmatch_lines(
        ["@pytest.mark.cassette(path=None, *, record_mode=None, match=None):*", "@pytest.mark.cost_budget(*"]
    )


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        (
            "pyagent_trace_record_mode = sometimes",
            "ERROR: ini option pyagent_trace_record_mode: unknown record mode 'sometimes'; "
            "choose one of: none, once, new, all, check.",
        ),
        ("pyagent_trace_match = fuzzy", "ERROR: ini option pyagent_trace_match = 'fuzzy': use messages or order."),
    ],
    ids=["record-mode", "match"],
)
def test_bad_ini_value_is_a_clean_usage_error(project, ini, message):
    """An ini value the plugin cannot use stops the run with a usage error naming it and the choices."""
    write_ini(project, ini)

    result = run(project)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    result.stderr.no_fnmatch_line("*Traceback*")


def test_bad_record_mode_option_is_a_usage_error(project):
    """--record-mode accepts only the four modes."""
    result = run(project, "--record-mode=sometimes")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--record-mode: invalid choice: 'sometimes'*"])


@pytest.mark.parametrize("flags", [("--record", "--replay"), ("--replay", "--record-mode=once")])
def test_contradicting_mode_flags_are_a_usage_error(project, flags):
    """Asking to record and to replay in one command line stops the run instead of picking one."""
    result = run(project, *flags)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*contradict*choose one*"])


def test_bad_marker_record_mode_fails_that_test_cleanly(project):
    """cassette(record_mode=...) with an unknown mode fails the test naming the marker and the choices."""
    project.makepyfile(
        test_marked="""
        import pytest

        @pytest.mark.cassette(record_mode="sometimes")
        def test_marked(cassette):
            pass
        """
    )

    result = run(project)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*test_marked.py::test_marked: @pytest.mark.cassette(record_mode=…): unknown record mode 'sometimes'; "
            "choose one of: none, once, new, all, check."
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_marker_match_order_replays_in_recorded_order(project, monkeypatch):
    """cassette(match="order") hands out recorded answers in order whatever the messages say."""
    project.makepyfile(
        test_order="""
        import pytest
        from fake_llm import FakeLLM, ask

        @pytest.mark.cassette(match="order")
        async def test_order(cassette):
            llm = cassette.llm(FakeLLM(), agent_name="a")
            first = await llm(ask("one"))
            second = await llm(ask("two" if cassette.mode == "once" else "changed"))
            assert (first, second) == ("reply: one", "reply: two")
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
    run(project).assert_outcomes(passed=1)


def test_plugin_can_be_disabled_with_p_no(project):
    """-p no:pyagent_trace removes fixtures, options and the network block."""
    project.makepyfile(
        test_plain="""
        import socket

        def test_network_untouched():
            assert socket.getaddrinfo("192.0.2.1", 443)

        def test_fixture(cassette):
            pass
        """
    )

    result = run(project, "-p", "no:pyagent_trace")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'cassette' not found*"])
    assert run(project, "-p", "no:pyagent_trace", "--record").ret == pytest.ExitCode.USAGE_ERROR
