"""Helpers of the plugin tests: run an inner session, read the cassettes it wrote."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import pyagent_trace
import pytest_pyagent_trace

_NOT_PRELOADED = ("pyagent_trace.cli", "pyagent_trace.exporters.langfuse", "pyagent_trace.exporters.datadog")
"""Not used by inner sessions, and heavy (typer and rich, the backends' SDKs)."""


def _import_the_plugin_and_library() -> None:
    """Import every module of both packages before any inner session runs.

    ``runpytest_inprocess`` restores ``sys.modules`` after each inner session, dropping the
    modules first imported during it; the next session imports them again as new module
    objects, while what outlived the session (the process-wide HTTP capture, the network
    guard) still holds the old classes, and ``isinstance`` fails across the two (seen as
    ``'Scrubber' object has no attribute 'scan_patterns'`` when a file of plugin tests ran
    after a unit file that imported less). Modules present before a session are kept.
    """
    for package in (pyagent_trace, pytest_pyagent_trace):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name.endswith("__main__") or module.name.startswith(_NOT_PRELOADED):
                continue
            try:
                importlib.import_module(module.name)
            except ImportError:  # an exporter whose optional SDK is not installed
                continue


_import_the_plugin_and_library()

FAKE_LLM = '''\
"""A fake paid LLM: deterministic replies, counts its calls, refuses to run when told."""

import os


class FakeLLM:
    """Async ``(messages) -> str``. ``FAKE_LLM_FORBID=1`` makes any call fail (replay must
    not reach it); ``FAKE_LLM_VERSION`` changes the replies (a model that changed)."""

    __test__ = False
    _model = "gpt-4o-mini"

    def __init__(self, usage=None, prefix="reply"):
        self.usage = usage
        self.prefix = prefix
        self.calls = 0

    async def __call__(self, messages):
        if os.environ.get("FAKE_LLM_FORBID"):
            raise AssertionError("the real LLM was called during replay")
        self.calls += 1
        last = messages if isinstance(messages, str) else messages[-1]
        text = last if isinstance(last, str) else getattr(last, "content", None) or last["content"]
        reply = f"{self.prefix}{os.environ.get('FAKE_LLM_VERSION', '')}: {text}"
        if self.usage is None:
            return reply
        return {"content": reply, "usage": dict(self.usage)}


def ask(text):
    return [{"role": "user", "content": text}]
'''


# Third-party plugins of the dev environment that inner sessions do not need (ddtrace alone
# adds a second to each start, langsmith's (langchain-core's dependency) 1.3 s; logfire's two
# and pytest-genai-semconv import OpenTelemetry into every session).
INNER_FLAGS = (
    *("-p", "no:cacheprovider", "-p", "no:ddtrace", "-p", "no:anyio", "-p", "no:platformdirs"),
    *("-p", "no:logfire", "-p", "no:pytest_logfire", "-p", "no:langsmith_plugin"),
    *("-p", "no:pytest_genai_semconv", "-W", "error"),
)


def write_ini(pytester: pytest.Pytester, *lines: str) -> None:
    """The inner pytest.ini: asyncio auto mode, the project folder importable, plus ``lines``."""
    base = ["[pytest]", "asyncio_mode = auto", "asyncio_default_fixture_loop_scope = function", "pythonpath = ."]
    pytester.makefile(".ini", pytest="\n".join([*base, *lines]) + "\n")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner session in this process, with the flags every plugin test wants.

    In-process is 2-3x cheaper than a subprocess per run; the plugin keeps its state in the
    session's stash, so sessions do not see each other. Where a fresh interpreter is the
    point (which modules a session imports), use :func:`run_subprocess`; plain ``pytest`` in
    a real project is the field suite's job (tests/field).
    """
    try:
        return pytester.runpytest_inprocess(*INNER_FLAGS, *args)
    finally:
        _forget_global_tracer_provider()


def _forget_global_tracer_provider() -> None:
    """Undo the global tracer provider an inner session's span fixtures installed.

    OpenTelemetry lets a process set it once; a fresh interpreter per run would start
    without one, so each in-process run must too (OpenTelemetry's own test utilities reset
    the same two globals).
    """
    from opentelemetry import trace
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None


def run_subprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner session in a fresh interpreter."""
    return pytester.runpytest_subprocess(*INNER_FLAGS, *args)


def read_cassette(path: Path) -> list[dict[str, Any]]:
    """A cassette's lines as dicts, header first."""
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def calls_in(path: Path) -> list[dict[str, Any]]:
    """The recorded llm_call entries of a cassette."""
    return [row for row in read_cassette(path) if row["event_type"] == "llm_call"]
