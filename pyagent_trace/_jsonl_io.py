"""Read and write JSONL recordings safely: atomic writes, errors that name file and line.

A recording is user data: a write goes to a temporary file in the same folder, is
fsynced, then renamed over the target, so a crash leaves the old file or the new one,
never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from pyagent_trace.exceptions import BadRecordingError

__all__ = ["atomic_write_bytes", "dump_lines", "read_jsonl"]

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def dump_lines(items: Iterable[Any]) -> bytes:
    """``items`` as JSONL bytes (orjson serialises dataclasses and dicts natively)."""
    dumps = orjson.dumps
    return b"".join(
        [dumps(item, default=_fallback, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE) for item in items]
    )


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via temp file + fsync + rename; creates parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _bad_line(path: Path, lines: list[bytes]) -> BadRecordingError:
    """Find the first line that does not parse as a JSON object and describe it."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            shown = line[:80].decode("utf-8", "replace")
            msg = (
                f"{path}:{number}: not valid JSON ({err.msg}): {shown!r}. "
                "A recording has one JSON object per line; fix or delete that line, "
                "or re-record the file."
            )
            return BadRecordingError(msg, path=str(path), line=number)
        if not isinstance(value, dict):
            msg = (
                f"{path}:{number}: expected a JSON object per line, found "
                f"{type(value).__name__} {value!r:.60}. Re-record the file."
            )
            return BadRecordingError(msg, path=str(path), line=number)
    msg = f"{path}: could not be parsed as JSONL"  # pragma: no cover - parse failed above
    return BadRecordingError(msg, path=str(path))


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All JSON objects of a JSONL file, blank lines skipped.

    Parses the whole file in one orjson call (the fast path); only when that fails does
    it go line by line to name the offending line.
    """
    file_path = Path(path)
    try:
        data = file_path.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError as err:
        msg = f"{file_path} is a directory, not a JSONL recording."
        raise BadRecordingError(msg, path=str(file_path)) from err
    lines = [line for line in data.split(b"\n") if line.strip()]
    try:
        values = orjson.loads(b"[" + b",".join(lines) + b"]")
    except orjson.JSONDecodeError:
        raise _bad_line(file_path, data.split(b"\n")) from None
    if len(values) != len(lines) or not all(isinstance(value, dict) for value in values):
        raise _bad_line(file_path, data.split(b"\n"))
    return values
