"""Every error pyagent-trace raises on purpose, in one place.

This module imports nothing from the package so any module can use it.
Messages follow one shape: what failed, the offending value, how to fix it.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

__all__ = [
    "BadRecordingError",
    "BadReportError",
    "BudgetExceededError",
    "CassetteMissingError",
    "CassetteWriteError",
    "ConfigError",
    "NetworkBlockedError",
    "PyAgentTraceError",
    "PyAgentTraceWarning",
    "ReplayExhaustedError",
    "ReplayMismatchError",
]


class PyAgentTraceError(Exception):
    """Root of every pyagent-trace error: ``except PyAgentTraceError`` catches them all."""


class ConfigError(PyAgentTraceError, ValueError):
    """An argument, option or setting has a value we cannot use."""


class BadRecordingError(PyAgentTraceError, ValueError):
    """A recording or cassette file cannot be read (names the file and line)."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class BadReportError(PyAgentTraceError, ValueError):
    """A run report (``--cost-report`` JSON) cannot be read or merged (names the file and field)."""

    def __init__(self, message: str, *, path: str = "", field: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.field = field


class CassetteMissingError(PyAgentTraceError, FileNotFoundError):
    """Replay was asked for a cassette that does not exist."""


class CassetteWriteError(PyAgentTraceError, OSError):
    """A cassette could not be written; ``rescued`` is where its recorded calls were saved instead."""

    def __init__(self, message: str, *, rescued: str | None = None) -> None:
        super().__init__(message)
        self.rescued = rescued

    def __str__(self) -> str:
        return str(self.args[0])


class ReplayMismatchError(PyAgentTraceError, AssertionError):
    """A replayed call does not match what was recorded."""


class ReplayExhaustedError(ReplayMismatchError):
    """More calls were made than the recording holds."""


class BudgetExceededError(PyAgentTraceError, AssertionError):
    """Spending went over a cost, token or call budget."""


class NetworkBlockedError(PyAgentTraceError, ConnectionError):
    """A test tried to reach the network while replaying."""


class PyAgentTraceWarning(UserWarning):
    """Something worth a look that does not fail the run (unused recorded calls, unpriced models)."""
