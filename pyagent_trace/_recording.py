"""The recording file format: one entry dataclass, atomic save, validated load.

Version 1: a header line ``{"event_type": "recording_header", ...}``, then one JSON
object per entry. Any JSON reader can follow it line by line: every line has
``event_type``, ``agent_name``, ``timestamp``, ``duration_ms`` and ``tokens``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pyagent_trace._jsonl_io import atomic_write_bytes, dump_lines, read_jsonl
from pyagent_trace.exceptions import BadRecordingError

__all__ = [
    "FORMAT_VERSION",
    "HEADER_EVENT",
    "LLM_CALL",
    "RecordEntry",
    "entries_from_dicts",
    "load_entries",
    "save_entries",
]

FORMAT_VERSION = 1
HEADER_EVENT = "recording_header"
LLM_CALL = "llm_call"


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """One line of a recording. Every field has a default so any entry can be read the
    same way (``entry.response`` is "" on a ``pattern_start``)."""

    event_type: str
    agent_name: str = ""
    pattern_type: str = ""
    model: str = ""
    timestamp: float = 0.0
    duration_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    tokens_estimated: bool = False
    priced: bool = True
    messages: list[dict[str, Any]] = field(default_factory=list)
    response: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


_FIELDS = frozenset(f.name for f in fields(RecordEntry))
_NUMERIC = ("timestamp", "duration_ms", "input_tokens", "output_tokens", "tokens", "cost_usd")
_HEADER = {"event_type": HEADER_EVENT, "format": "pyagent-trace", "format_version": FORMAT_VERSION}


def _entry_from_dict(raw: dict[str, Any], path: str, line: int) -> RecordEntry:
    if not isinstance(raw.get("event_type"), str):
        msg = f"{path}:{line}: entry has no string 'event_type'; every line needs one."
        raise BadRecordingError(msg, path=path, line=line)
    for key in _NUMERIC:
        value = raw.get(key, 0)
        if not isinstance(value, int | float) or isinstance(value, bool):
            msg = f"{path}:{line}: {key!r} must be a number, found {value!r}."
            raise BadRecordingError(msg, path=path, line=line)
    if raw.keys() <= _FIELDS:
        return RecordEntry(**raw)
    known = {k: v for k, v in raw.items() if k in _FIELDS}
    extra = {k: v for k, v in raw.items() if k not in _FIELDS}
    known["metadata"] = {**known.get("metadata", {}), **extra}
    return RecordEntry(**known)


def entries_from_dicts(rows: Sequence[dict[str, Any]], path: str = "<memory>") -> list[RecordEntry]:
    """Entries of a parsed recording; checks the header's format version."""
    start = 0
    if rows and rows[0].get("event_type") == HEADER_EVENT:
        version = rows[0].get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            msg = (
                f"{path}:1: recording format version {version!r} is newer than this "
                f"pyagent-trace reads ({FORMAT_VERSION}); upgrade pyagent-trace."
            )
            raise BadRecordingError(msg, path=path, line=1)
        start = 1
    return [_entry_from_dict(row, path, number) for number, row in enumerate(rows[start:], start + 1)]


def load_entries(path: str | os.PathLike[str]) -> list[RecordEntry]:
    """Read a recording; errors name the file and line."""
    file_path = Path(path)
    if not file_path.exists():
        msg = f"Recording {str(file_path)!r} does not exist. Check the path, or record it first."
        raise FileNotFoundError(msg)
    return entries_from_dicts(read_jsonl(file_path), str(file_path))


def save_entries(path: str | os.PathLike[str], entries: Iterable[RecordEntry]) -> Path:
    """Write a recording atomically, header first."""
    target = Path(path)
    atomic_write_bytes(target, dump_lines([_HEADER, *entries]))
    return target
