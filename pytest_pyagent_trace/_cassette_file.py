"""Writing a cassette: merged, stable, atomic, and safe when several workers share it.

* Atomic: temp file + rename (``save_entries``), so a crash never leaves half a file.
* Stable: a re-recorded call identical to one already in the file keeps that entry's
  timestamp and duration, so re-recording unchanged behaviour gives the same bytes.
* Shared: an exclusive ``flock`` around read-merge-write, so pytest-xdist workers that
  write one cassette take turns; a shared cassette keeps the calls other tests recorded,
  grouped by test in node-id order (not in the order workers happened to finish).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import tempfile
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path

import orjson

from pyagent_trace._recording import RecordEntry, load_entries, save_entries

__all__ = ["cassette_lock", "write_cassette"]


@contextlib.contextmanager
def cassette_lock(path: Path) -> Iterator[None]:
    """An inter-process lock for ``path``, kept in the temp folder (no clutter beside it)."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    lock_dir = Path(tempfile.gettempdir()) / "pyagent-trace-locks"
    lock_dir.mkdir(exist_ok=True)
    fd = os.open(lock_dir / f"{digest}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _content_key(entry: RecordEntry) -> bytes:
    return orjson.dumps(dataclasses.replace(entry, timestamp=0.0, duration_ms=0.0), option=orjson.OPT_SORT_KEYS)


def _stabilised(new: list[RecordEntry], old: list[RecordEntry]) -> list[RecordEntry]:
    """``new`` with the volatile fields of identical ``old`` entries carried over."""
    previous: dict[bytes, deque[RecordEntry]] = defaultdict(deque)
    for entry in old:
        previous[_content_key(entry)].append(entry)
    result = []
    for entry in new:
        same = previous.get(_content_key(entry))
        if same:
            kept = same.popleft()
            entry = dataclasses.replace(entry, timestamp=kept.timestamp, duration_ms=kept.duration_ms)
        result.append(entry)
    return result


def write_cassette(path: Path, recorded: list[RecordEntry], *, keep_existing: bool, recorded_by: str | None) -> None:
    """Write ``recorded`` into the cassette at ``path``.

    ``keep_existing`` (mode new) appends to what is there; ``recorded_by`` (a shared
    cassette) replaces only that test's earlier calls; otherwise the file is replaced.
    """
    with cassette_lock(path):
        try:
            old = load_entries(path) if path.exists() else []
        except ValueError:  # a corrupt file being re-recorded: nothing in it to keep
            old = []
        if keep_existing:
            base = old
        elif recorded_by is not None:
            base = [e for e in old if e.metadata.get("recorded_by") != recorded_by]
        else:
            base = []
        entries = [*base, *_stabilised(recorded, old)]
        if recorded_by is not None:  # by test, whichever worker wrote first: re-records stay identical
            entries.sort(key=lambda e: str(e.metadata.get("recorded_by", "")))
        save_entries(path, entries)
