"""The exporter contract and the one error policy every exporter shares.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol, runtime_checkable

from pyagent_trace.events import TraceEvent

__all__ = ["ErrorPolicy", "TraceExporter"]


@runtime_checkable
class TraceExporter(Protocol):
    """A sink for trace events: subscribe ``exporter.export_event`` to a bus.

    Exporters never raise into the caller; ``flush`` and ``shutdown`` return whether
    everything handed to them so far was delivered.
    """

    def export_event(self, event: TraceEvent) -> None: ...

    def flush(self) -> bool: ...

    def shutdown(self) -> bool: ...


class ErrorPolicy:
    """Log the first failure with a traceback, count the rest, never raise (unless asked).

    ``raise_errors=True`` is for the project's own tests, where a silent sink would hide
    a bug.
    """

    def __init__(self, logger: logging.Logger, *, raise_errors: bool = False) -> None:
        self._logger = logger
        self._raise = raise_errors
        self._lock = threading.Lock()
        self.error_count = 0

    def handle(self, what: str, exc: BaseException) -> None:
        with self._lock:
            self.error_count += 1
            first = self.error_count == 1
        if self._raise:
            raise exc
        if first:
            self._logger.warning("%s failed; events are being dropped: %s", what, exc, exc_info=exc)
        else:
            self._logger.debug("%s failed again: %r", what, exc)
