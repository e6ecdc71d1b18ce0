"""JsonlExporter: append every event to a JSONL file, one line each.

Each line goes out in a single ``os.write`` on an ``O_APPEND`` descriptor: there is no
user-space buffer to lose at exit, and two writers (threads or processes) never
interleave inside a line.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from pyagent_trace.events import TraceEvent
from pyagent_trace.exporters._base import ErrorPolicy

__all__ = ["JsonlExporter"]

logger = logging.getLogger(__name__)


def _fallback(value: Any) -> Any:
    """Serialise what orjson does not know (Message objects, sets, paths) rather than drop it."""
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class JsonlExporter:
    """Append-only JSONL sink; use as ``bus.subscribe(JsonlExporter(path).export_event)``."""

    def __init__(self, path: str | os.PathLike[str], *, raise_errors: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        self._errors = ErrorPolicy(logger, raise_errors=raise_errors)
        self.events_written = 0

    def export_event(self, event: TraceEvent) -> None:
        try:
            line = orjson.dumps(event, default=_fallback, option=_OPTIONS)
            with self._lock:
                if self._fd is None:
                    msg = f"JsonlExporter({str(self.path)!r}) is closed; create a new one to write"
                    raise ValueError(msg)
                written = os.write(self._fd, line)
                while written < len(line):  # a short write (full disk) must not split a line silently
                    written += os.write(self._fd, line[written:])
                self.events_written += 1
        except Exception as exc:
            self._errors.handle(f"JsonlExporter({str(self.path)!r})", exc)

    @property
    def error_count(self) -> int:
        return self._errors.error_count

    def flush(self) -> bool:
        """Push written lines to disk (``fsync``); lines are visible to readers without it."""
        with self._lock:
            if self._fd is None:
                return True
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._errors.handle(f"JsonlExporter({str(self.path)!r}).flush", exc)
                return False
        return True

    def shutdown(self) -> bool:
        ok = self.flush()
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        return ok

    close = shutdown

    def __enter__(self) -> JsonlExporter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)
