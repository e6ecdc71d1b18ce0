"""The run's reporter: adds up every test's usage (xdist workers' too), finds stale
cassettes, writes --cost-report and prints the summary on the controller only.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_pyagent_trace._context import RunState
from pytest_pyagent_trace._stale import stale_cassettes
from pytest_pyagent_trace._summary import PROPERTY, TestUsage

__all__ = ["RunReporter"]


class RunReporter:
    """Registered as a plugin object by ``pytest_configure``."""

    def __init__(self, config: pytest.Config, state: RunState) -> None:
        self.config = config
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == PROPERTY and isinstance(value, dict):
                self.state.report.add(TestUsage(**value))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """On the xdist controller: what a worker collected (there is no collection here)."""
        self.state.cassettes.update(getattr(node, "workeroutput", {}).get(PROPERTY, {}))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        state = self.state
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: hand collection facts to the controller
            workeroutput[PROPERTY] = state.cassettes.to_dict()
            return
        patterns = [str(p) for p in self.config.getini("python_files")]
        state.report.stale_cassettes = stale_cassettes(state.cassettes, patterns, Path.cwd())
        path = self.config.getoption("pyagent_trace_cost_report")
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(state.report.to_json(), indent=2) + "\n")
        if state.strict and state.report.stale_cassettes and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        lines = self.state.report.lines()
        if lines:
            terminalreporter.write_sep("-", "pyagent-trace")
            for line in lines:
                terminalreporter.write_line(line)
