"""The recording file format: one entry dataclass, atomic save, validated load.

Version 1: a header line ``{"event_type": "recording_header", ...}``, then one JSON
object per entry. Any JSON reader can follow it line by line: every line has
``event_type``, ``agent_name``, ``timestamp``, ``duration_ms`` and ``tokens``.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pyagent_trace._gc import gc_paused
from pyagent_trace._jsonl_io import atomic_write_bytes, dump_lines, iter_jsonl
from pyagent_trace._schema import FIX_HINT, entry_problem, header_problem
from pyagent_trace.exceptions import BadRecordingError, ConfigError

__all__ = [
    "FORMAT_VERSION",
    "HEADER_EVENT",
    "HEADER_LINE",
    "LLM_CALL",
    "RecordEntry",
    "entries_from_rows",
    "load_entries",
    "save_entries",
]

FORMAT_VERSION = 1
HEADER_EVENT = "recording_header"
LLM_CALL = "llm_call"


@dataclass(slots=True)
class RecordEntry:
    """One line of a recording. Every field has a default so any entry can be read the
    same way (``entry.response`` is "" on a ``pattern_start``).

    Treat it as read-only. It is not ``frozen`` on purpose: frozen dataclasses build
    through ``object.__setattr__`` per field, which doubled the cost of loading a
    cassette (measured in bench/bench_recorder.py).
    """

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
HEADER_LINE = {"event_type": HEADER_EVENT, "format": "pyagent-trace", "format_version": FORMAT_VERSION}


def _bad(path: str, line: int, problem: str) -> BadRecordingError:
    hint = "" if problem.endswith(".") else f". {FIX_HINT}"
    return BadRecordingError(f"{path}:{line}: {problem}{hint}", path=path, line=line)


def _entry_from_dict(raw: dict[str, Any], path: str, line: int) -> RecordEntry:
    if type(raw.get("event_type")) is not str:
        msg = f"{path}:{line}: entry has no string 'event_type'; every line needs one. {FIX_HINT}"
        raise BadRecordingError(msg, path=path, line=line)
    if _FIELDS.issuperset(raw):
        entry = RecordEntry(**raw)
    else:
        known = {k: v for k, v in raw.items() if k in _FIELDS}
        metadata = known.get("metadata", {})
        if type(metadata) is not dict:
            raise _bad(path, line, f"'metadata' must be a JSON object, found {metadata!r:.60}")
        known["metadata"] = {**metadata, **{k: v for k, v in raw.items() if k not in _FIELDS}}
        entry = RecordEntry(**known)
    problem = entry_problem(entry)
    if problem is not None:
        raise _bad(path, line, problem)
    return entry


def _check_header(row: dict[str, Any], path: str, line: int) -> None:
    problem = header_problem(row, FORMAT_VERSION)
    if problem is not None:
        raise _bad(path, line, problem)


def entries_from_rows(rows: Iterable[tuple[int, dict[str, Any]]], path: str = "<memory>") -> list[RecordEntry]:
    """Entries of parsed ``(line, object)`` rows; header lines are checked, not returned."""
    entries: list[RecordEntry] = []
    append = entries.append
    with gc_paused():  # the cost YAML cassette loaders pay: full collections over a growing heap
        for number, row in rows:
            if row.get("event_type") == HEADER_EVENT:
                _check_header(row, path, number)
                continue
            append(_entry_from_dict(row, path, number))
    return entries


def load_entries(path: str | os.PathLike[str]) -> list[RecordEntry]:
    """Read a recording; errors name the file and line."""
    file_path = path if isinstance(path, Path) else Path(path)
    try:
        return entries_from_rows(iter_jsonl(file_path), str(file_path))
    except FileNotFoundError:  # from the open: no separate stat per file
        msg = f"Recording {str(file_path)!r} does not exist. Check the path, or record it first."
        raise FileNotFoundError(msg) from None


def save_entries(path: str | os.PathLike[str], entries: Iterable[RecordEntry]) -> Path:
    """Write a recording atomically, header first; an entry the schema refuses (see
    ``_schema``) is a ConfigError naming it, and nothing is written."""
    target = Path(path)
    entries = list(entries)
    for index, entry in enumerate(entries):
        problem = entry_problem(entry)
        if problem is not None:
            msg = f"Cannot write {target}: entry {index + 1} ({entry.event_type!r}): {problem}. Nothing was written."
            raise ConfigError(msg)
    atomic_write_bytes(target, dump_lines([HEADER_LINE, *entries]))
    return target
