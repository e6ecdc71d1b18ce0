"""Writing a cassette: merged, stable, atomic, and safe when several workers share it.

* Atomic: temp file + rename (``save_entries``), so a crash never leaves half a file.
* Stable: a re-recorded call identical to one already in the file keeps that entry's
  timestamp and duration, so re-recording unchanged behaviour gives the same bytes.
* Shared: an exclusive ``flock`` around read-merge-write, so pytest-xdist workers that
  write one cassette take turns; a shared cassette keeps the calls other tests recorded,
  grouped by test in node-id order (not in the order workers happened to finish).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import stat
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path

import orjson

from pyagent_trace._jsonl_io import atomic_write_bytes, dump_lines, not_regular
from pyagent_trace._recording import HEADER_LINE, RecordEntry, load_entries, save_entries
from pyagent_trace.exceptions import BadRecordingError, CassetteWriteError, ConfigError
from pyagent_trace.http._convert import TIME_TO_FIRST_CHUNK, without_volatile

__all__ = ["cassette_lock", "check_cassette_path", "own_part", "read_cassette", "write_cassette"]


def own_part(entries: list[RecordEntry], recorded_by: str | None) -> list[RecordEntry]:
    """What one test replays: a whole cassette, or in a shared one the calls that test
    recorded plus calls recorded by no test in particular (written by hand)."""
    if recorded_by is None:
        return entries
    return [e for e in entries if e.metadata.get("recorded_by", recorded_by) == recorded_by]


def check_cassette_path(path: Path) -> bool:
    """Whether the cassette file exists; refuses a path that does not end in ``.jsonl`` (a
    marker naming ``helpers.py`` must never overwrite it) or that is neither a regular file
    nor absent (a FIFO would hang the read, a symlink loop would fail deep inside pathlib).
    One ``stat``: this runs for every cassette test."""
    if path.suffix != ".jsonl":
        msg = (
            f"Cassette path {path} does not end in .jsonl; pyagent-trace reads and writes only .jsonl "
            f"cassettes, so it never writes over another file. Name the cassette e.g. {path.stem}.jsonl."
        )
        raise ConfigError(msg)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.lexists(path):
            msg = f"Cassette path {path} is a broken symlink; remove it or point it at a .jsonl file."
            raise ConfigError(msg) from None
        return False
    except OSError as err:  # a symlink loop (ELOOP), a path through a file (ENOTDIR), no permission
        msg = f"Cassette path {path} cannot be resolved ({err.strerror}); point the cassette at a .jsonl file."
        raise ConfigError(msg) from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"Cassette path {not_regular(path, mode)}")
    return True


def read_cassette(path: Path, *, rerecording: bool = False) -> list[RecordEntry] | None:
    """The cassette's entries, or None when there is no file yet. A file that does not
    parse is an error, except when it is being re-recorded (``rerecording``: nothing in it
    is kept, so it reads as empty)."""
    if not check_cassette_path(path):
        return None
    try:
        return load_entries(path)
    except BadRecordingError:
        if rerecording:
            return []
        raise
    except OSError as err:
        msg = f"Cassette {path} cannot be read ({err.strerror or err}); check its permissions."
        raise ConfigError(msg) from None


def _lock_folder() -> Path:
    """This user's lock folder in the temp folder (no clutter beside the cassettes). Per user:
    a folder shared by all would be created by the first user with their umask (0755), and
    nobody else could take a lock in it."""
    folder = Path(tempfile.gettempdir()) / f"pyagent-trace-locks-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            msg = f"Lock folder {folder} is not a folder of yours; remove it, or point TMPDIR at a folder of your own."
            raise ConfigError(msg) from None
    return folder


@contextlib.contextmanager
def cassette_lock(path: Path) -> Iterator[None]:
    """An inter-process lock for ``path``, in this user's lock folder (see ``_lock_folder``)."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    fd = os.open(_lock_folder() / f"{digest}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _content_key(entry: RecordEntry) -> bytes:
    """What must be equal for a re-recorded entry to count as unchanged: all but its time,
    its duration and, for HTTP, its time to first chunk and volatile headers (``date``,
    request ids, rate limits)."""
    stable = dataclasses.replace(entry, timestamp=0.0, duration_ms=0.0)
    http = entry.metadata.get("http")
    if isinstance(http, dict):
        metadata = {k: v for k, v in entry.metadata.items() if k != TIME_TO_FIRST_CHUNK}
        stable = dataclasses.replace(stable, metadata={**metadata, "http": without_volatile(http)})
    return orjson.dumps(stable, option=orjson.OPT_SORT_KEYS)


def _stabilised(new: list[RecordEntry], old: list[RecordEntry]) -> list[RecordEntry]:
    """``new``, where an entry equal to an ``old`` one but for volatile fields is that old
    entry: re-recording unchanged behaviour writes the same bytes."""
    previous: dict[bytes, deque[RecordEntry]] = defaultdict(deque)
    for entry in old:
        previous[_content_key(entry)].append(entry)
    result = []
    for entry in new:
        same = previous.get(_content_key(entry))
        if same:
            entry = same.popleft()
        result.append(entry)
    return result


def write_cassette(
    path: Path,
    recorded: list[RecordEntry],
    *,
    keep_existing: bool,
    recorded_by: str | None,
    previous: list[RecordEntry] | None = None,
) -> None:
    """Write ``recorded`` into the cassette at ``path``.

    ``keep_existing`` (mode new) appends to what is there; ``recorded_by`` (a shared
    cassette) replaces only that test's earlier calls; otherwise the file is replaced.
    ``previous`` is the file as the test found it before its first attempt: a rerun
    writes against it, not against what a failed attempt wrote (ignored for shared
    cassettes, whose other tests' parts must be read fresh).

    When the file cannot be written (disk full, read-only folder, no permission), the
    calls, which were paid for, are saved to a rescue file and a CassetteWriteError names it.
    """
    entries = recorded
    try:
        check_cassette_path(path)  # again: the path may have changed while the test ran
        with cassette_lock(path):
            try:
                if previous is not None and recorded_by is None:
                    old = previous
                else:
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
    except (OSError, ConfigError) as err:
        reason = (err.strerror or str(err)) if isinstance(err, OSError) else str(err)
        raise _rescued(path, entries, len(recorded), reason) from None


RESCUE_DIR = Path(".pyagent-trace") / "rescued"
"""Where calls go when their cassette cannot be written: under the working directory (the
project, where people look), else under the system temp folder."""


def _rescue_folders() -> list[Path]:
    return [Path.cwd() / RESCUE_DIR, Path(tempfile.gettempdir()) / f"pyagent-trace-rescued-{os.getuid()}"]


def _rescued(path: Path, entries: list[RecordEntry], count: int, reason: str) -> CassetteWriteError:
    """Save ``entries`` (the cassette as it should have been written) to a rescue file, and the
    one-line error that says what failed and where the calls are."""
    name = f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.jsonl"
    calls = f"{count} recorded call{'s' * (count != 1)}"
    failures = []
    for folder in _rescue_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            ignore = folder.parent / ".gitignore"
            if folder.parent.name == RESCUE_DIR.parts[0] and not ignore.exists():
                ignore.write_text("# pyagent-trace's local files (rescued recordings)\n*\n")
            atomic_write_bytes(folder / name, dump_lines([HEADER_LINE, *entries]))
        except OSError as err:
            failures.append(f"{folder}: {err.strerror or err}")
            continue
        rescue = folder / name
        msg = (
            f"Cassette {path} could not be written ({reason}). The {calls} {'was' if count == 1 else 'were'} "
            f"saved to {rescue}; "
            f"fix the cause, then move that file to {path}."
        )
        return CassetteWriteError(msg, rescued=str(rescue))
    msg = (
        f"Cassette {path} could not be written ({reason}), and the {calls} could not be saved "
        f"elsewhere either ({'; '.join(failures)}). Free space or fix permissions, then record again."
    )
    return CassetteWriteError(msg)
