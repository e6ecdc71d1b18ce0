"""A throwaway user project, and pytest run in it the way users run it.

``FieldProject`` writes files into a temporary folder and starts pytest there as a
subprocess: the ``pytest`` console script of this virtualenv (or ``python -m pytest``),
with the project folder as working directory and an environment cleaned of everything
that would make the run unlike a user's (the outer run's addopts, xdist worker variables,
API keys). Options live in the project's ``pyproject.toml``, as a user would write them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

__all__ = ["BASE_ADDOPTS", "FAKE_LLM", "FieldProject", "Result", "load_fake_providers"]

BIN = Path(sys.executable).parent
PYTEST = BIN / "pytest"
# ddtrace's pytest plugin (the [datadog] extra of the dev environment) adds a second to
# each start, logfire's two (dev extra) half a second: a user of ours would not have them
# (logfire's plugin does nothing unless given --logfire), nor langsmith's (the frameworks
# extra), 1.3 s; pytest-genai-semconv's imports OpenTelemetry. The cache would only litter
# the project.
BASE_ADDOPTS = (
    "-p no:ddtrace -p no:logfire -p no:pytest_logfire -p no:langsmith_plugin -p no:pytest_genai_semconv "
    "-p no:cacheprovider"
)

# Removed from the subprocess environment unless a test sets them.
_SCRUBBED = (
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
    "PYTEST_CURRENT_TEST",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "OTEL_SDK_DISABLED",
    "PY_COLORS",
    "FORCE_COLOR",
    "FAKE_LLM_FORBID",
    "LITELLM_LOCAL_MODEL_COST_MAP",  # tests/conftest.py sets it; a user's litellm runs with defaults
    "FAKE_BASE",
)
_SCRUBBED_PREFIXES = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID")

FAKE_LLM = '''\
"""A stand-in for a paid LLM: deterministic replies with usage, and it refuses to be
called when FAKE_LLM_FORBID is set (a replay must never reach it)."""

import os


class FakeLLM:
    __test__ = False
    _model = "gpt-4o-mini"

    def __init__(self):
        self.calls = 0

    async def __call__(self, messages):
        if os.environ.get("FAKE_LLM_FORBID"):
            raise AssertionError("the real LLM was called during replay")
        self.calls += 1
        return {"content": "reply: " + messages[-1]["content"], "usage": {"input_tokens": 10, "output_tokens": 5}}


def ask(text):
    return [{"role": "user", "content": text}]
'''

_DURATION = re.compile(r" in \d+\.\d+s\b")
_OUTCOME = re.compile(r"(\d+) ([a-z]+)")
_PLURALS = {"errors": "error", "warnings": "warning", "reruns": "rerun"}


class Result(str):
    """A finished pytest run: exit code, output, and the counts of its final summary line.

    It is also a string, its whole story (command, exit code, stdout, stderr), so that
    ``assert result.ret == 0, result`` shows all of it: pytest cuts the repr of any other
    object in an assertion message to 240 characters.
    """

    args: list[str]
    ret: int
    stdout: str
    stderr: str

    def __new__(cls, args: list[str], ret: int, stdout: str, stderr: str) -> Result:
        text = f"$ {' '.join(args)}  -> exit {ret}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        self = super().__new__(cls, text)
        self.args, self.ret, self.stdout, self.stderr = args, ret, stdout, stderr
        return self

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def outcomes(self) -> dict[str, int]:
        """The final summary line as a dict: ``3 passed, 1 failed in 0.1s`` -> {"passed": 3, "failed": 1}."""
        for line in reversed(self.stdout.splitlines()):
            if _DURATION.search(line):
                found = _OUTCOME.findall(line.split(" in ")[0])
                return {_PLURALS.get(noun, noun): int(count) for count, noun in found}
        raise AssertionError(f"no summary line in the output of {self.args}:\n{self}")

    def report_of(self, test: str) -> str:
        """The failure or error section pytest printed for ``test`` (a test name, e.g.
        ``test_two``), without its header line; '' when there is none."""
        header = re.compile(rf"^_+ (?:(?:ERROR|FAILURE) at \w+ of )?{re.escape(test)} _+$")
        lines = self.stdout.splitlines()
        for start, line in enumerate(lines):
            if header.match(line):
                body = []
                for later in lines[start + 1 :]:
                    if later.startswith(("___", "===")) or (later.startswith("---") and "Captured" not in later):
                        break
                    body.append(later)
                return "\n".join(body).strip("\n")
        return ""


def load_fake_providers() -> Any:
    """tests/integration/fake_providers.py (see tests/fake_server.py)."""
    from fake_server import load_fake_providers as load

    return load()


class FieldProject:
    """A user's project folder, and pytest runs in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env: dict[str, str] = {}
        """Variables every run of this project gets (a test's own ``env=`` wins)."""

    # -- files ---------------------------------------------------------------------------
    def write(self, name: str, text: str) -> Path:
        """Write ``text`` (dedented) to ``name`` under the project; returns the path."""
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))
        return target

    def configure(self, *lines: str, addopts: str = BASE_ADDOPTS, asyncio_scope: bool = True) -> Path:
        """``pyproject.toml`` with ``[tool.pytest.ini_options]``: ``addopts``, pytest-asyncio's
        loop scope, then ``lines`` (TOML, e.g. ``'asyncio_mode = "auto"'``)."""
        body = ["[tool.pytest.ini_options]", f"addopts = {json.dumps(addopts)}"]
        if asyncio_scope:
            body.append('asyncio_default_fixture_loop_scope = "function"')
        body.extend(lines)
        return self.write("pyproject.toml", "\n".join(body) + "\n")

    def with_fake_llm(self) -> FieldProject:
        self.write("fake_llm.py", FAKE_LLM)
        return self

    def copy_from(self, other: Path) -> FieldProject:
        shutil.copytree(other, self.path, dirs_exist_ok=True, symlinks=True)
        return self

    def cassette(self, module: str, test: str) -> Path:
        """The default cassette path of ``test`` in ``module`` (a stem, e.g. ``test_app``)."""
        return self.path / "cassettes" / module / f"{test}.jsonl"

    @staticmethod
    def entries(cassette: Path, kind: str = "llm_call") -> list[dict[str, Any]]:
        """The entries of one kind (``llm_call``, ``http_interaction``) in a cassette file."""
        rows = [json.loads(line) for line in cassette.read_text().splitlines() if line.strip()]
        return [row for row in rows if row.get("event_type") == kind]

    # -- runs ----------------------------------------------------------------------------
    def environment(self, env: dict[str, str | None] | None = None) -> dict[str, str]:
        """The subprocess environment: this process's, cleaned, plus the project's and
        the run's variables (a value of None removes one)."""
        result = {k: v for k, v in os.environ.items() if k not in _SCRUBBED and not k.startswith(_SCRUBBED_PREFIXES)}
        for key, value in {**self.env, **(env or {})}.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        return result

    def pytest(self, *args: str, env: dict[str, str | None] | None = None, module: bool = False) -> Result:
        """``pytest *args`` in the project folder (``python -m pytest`` with ``module=True``)."""
        command = [sys.executable, "-m", "pytest", *args] if module else [str(PYTEST), *args]
        done = subprocess.run(  # our own interpreter and console script
            command,
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=120,
            env=self.environment(env),
            check=False,
        )
        return Result(command, done.returncode, done.stdout, done.stderr)
