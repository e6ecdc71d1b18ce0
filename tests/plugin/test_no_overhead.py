"""A session that uses none of the plugin pays next to nothing: no heavy imports, nothing
added to its reports, and its errors keep their tracebacks (the network block aside)."""

from __future__ import annotations

import json

from plugin_testing import run_subprocess as run

DUMP_CONFTEST = """
    import json
    import sys

    PROPERTIES = []

    def pytest_runtest_logreport(report):
        PROPERTIES.extend(report.user_properties)

    def pytest_unconfigure(config):
        with open("session.json", "w") as out:
            json.dump({"modules": sorted(sys.modules), "properties": PROPERTIES}, out)
"""

LIGHT = {
    "pytest_pyagent_trace",
    "pytest_pyagent_trace.plugin",
    "pytest_pyagent_trace._context",
    "pytest_pyagent_trace._options",
    "pytest_pyagent_trace._plan",
    "pytest_pyagent_trace._summary",
    "pytest_pyagent_trace._reporter",
    "pytest_pyagent_trace._settings",
    "pytest_pyagent_trace._stale",
}


def session(project) -> dict:
    return json.loads((project.path / "session.json").read_text())


def ours(modules: list[str], *prefixes: str) -> set[str]:
    return {m for m in modules if m.split(".")[0] in prefixes}


def test_unused_plugin_imports_only_its_light_modules(project):
    """No vcr, no OpenTelemetry, no cassette/span/check modules, no syrupy extension of ours."""
    project.makeconftest(DUMP_CONFTEST)
    project.makepyfile(
        test_plain="""
        import pytest

        @pytest.mark.parametrize("n", range(3))
        def test_plain(n):
            assert n >= 0

        async def test_async():
            pass
        """
    )

    run(project).assert_outcomes(passed=4)

    modules = session(project)["modules"]
    assert ours(modules, "pytest_pyagent_trace") <= LIGHT
    assert ours(modules, "vcr", "opentelemetry", "genai_prices") == set()
    allowed = {"pyagent_trace", "pyagent_trace._lazy", "pyagent_trace.exceptions", "pyagent_trace.record_mode"}
    allowed.add("pyagent_trace._usd")  # how the summary spells dollars: no import of its own
    assert ours(modules, "pyagent_trace") <= allowed


def test_unused_plugin_adds_nothing_to_test_reports(project):
    """Reports of tests that do not use the plugin carry no user_properties of ours."""
    project.makeconftest(DUMP_CONFTEST)
    project.makepyfile(test_plain="def test_plain():\n    pass\n")

    run(project).assert_outcomes(passed=1)

    assert session(project)["properties"] == []


def test_used_plugin_loads_what_the_test_needs(project):
    """The dump does see imports: a test with a cassette loads the cassette module (control for the above)."""
    project.makeconftest(DUMP_CONFTEST)
    project.makepyfile(test_used="def test_used(cassette):\n    pass\n")

    run(project, "--record-mode=once").assert_outcomes(passed=1)

    modules = session(project)["modules"]
    assert "pyagent_trace.cassette._cassette" in modules
    assert ours(modules, "genai_prices") == set()  # imported on the first call priced, not before


def test_library_errors_in_tests_that_do_not_use_the_plugin_keep_their_traceback(project):
    """A PyAgentTraceError raised by code under test is reported as usual, not turned into a bare message."""
    project.makepyfile(
        test_lib="""
        from pyagent_trace import CostTracker

        def test_bad_cost():
            CostTracker().record(agent="a", model="gpt-4o-mini", cost_usd=-1)
        """
    )

    result = run(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([">*CostTracker().record(*", "E *ConfigError: cost_usd=-1*"])


def test_http_patches_are_installed_once_for_a_run_of_cassette_tests_and_gone_for_other_tests(project):
    """Consecutive cassette tests share one install of vcrpy's patches; a test without a cassette sees none."""
    project.makepyfile(
        test_order="""
        import httpx
        import pytest

        ORIGINAL = httpx.HTTPTransport.handle_request

        @pytest.mark.parametrize("n", range(4))
        @pytest.mark.cassette
        def test_cassette(n):
            from pyagent_trace.http._capture import CAPTURE
            assert httpx.HTTPTransport.handle_request is not ORIGINAL
            assert CAPTURE.installs == 1

        def test_plain():
            assert httpx.HTTPTransport.handle_request is ORIGINAL

        @pytest.mark.cassette
        def test_cassette_again():
            from pyagent_trace.http._capture import CAPTURE
            assert CAPTURE.installs == 2
        """
    )

    run(project, "-p", "no:randomly").assert_outcomes(passed=6)
