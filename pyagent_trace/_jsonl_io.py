"""Read and write JSONL recordings safely: atomic writes, errors that name file and line.

A recording is user data: a write goes to a temporary file beside it (in a git-ignored
``.pyagent-trace-tmp/`` folder), is fsynced, then renamed over the target, so a crash
leaves the old file or the new one, never half of one.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from pyagent_trace.exceptions import BadRecordingError

__all__ = [
    "MAX_LINE_BYTES",
    "TMP_DIR",
    "atomic_write_bytes",
    "clean_stale_temp_files",
    "dump_lines",
    "iter_jsonl",
    "not_regular",
]

MAX_LINE_BYTES = 64 * 2**20
"""The longest line a reader accepts: far above any real call, and a bound on memory."""

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _dump_line(item: Any) -> bytes:
    try:
        return orjson.dumps(item, default=_fallback, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # non-string dict keys: the slower option only when needed
        return orjson.dumps(item, default=_fallback, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE)


_SEPARATOR = "\x00pyagent-trace:line\x00"
_SEPARATOR_JSON = b"," + orjson.dumps(_SEPARATOR) + b","


def _dump_framed(items: list[Any]) -> bytes | None:
    """All items in ONE orjson call, then the array turned into lines.

    One call is about twice as fast as one call per item (measured in
    bench/bench_recorder.py). The items are interleaved with a separator string whose JSON
    form (``,"\u0000pyagent-trace:line\u0000",``) cannot occur inside a JSON string (its
    quotes would be escaped there); compact JSON has no raw newline, so the count of lines
    proves the split. ``None`` when that check fails (a user value equal to the separator).
    """
    framed: list[Any] = [_SEPARATOR] * (2 * len(items) - 1)
    framed[::2] = items
    try:
        data = orjson.dumps(framed, default=_fallback)
    except TypeError:
        data = orjson.dumps(framed, default=_fallback, option=_OPTIONS)
    body = data[1:-1].replace(_SEPARATOR_JSON, b"\n")
    return body + b"\n" if body.count(b"\n") == len(items) - 1 else None


def dump_lines(items: Iterable[Any]) -> bytes:
    """``items`` as JSONL bytes (orjson serialises dataclasses and dicts natively)."""
    listed = list(items)
    if not listed:
        return b""
    return _dump_framed(listed) or b"".join([_dump_line(item) for item in listed])


def _mode_for(path: Path) -> int:
    """The file's current permissions, or what a plain ``open()`` would give (0666 - umask)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


TMP_DIR = ".pyagent-trace-tmp"
"""Where a write's temporary file lives: a folder beside the target (same file system, so
the rename is atomic) holding a ``.gitignore`` of ``*``, so git never lists a temp file,
not even one a killed write left behind."""
STALE_SECONDS = 60.0
"""A temp file older than this whose writer holds no lock on it is a killed write's leftover."""
_LEGACY_TMP = re.compile(r"^\..+\.jsonl\.[A-Za-z0-9_]+\.tmp$")
"""Temp files of earlier versions, which wrote ``.<name>.jsonl.XXXX.tmp`` beside the target."""


def _tmp_folder(folder: Path) -> Path:
    tmp = folder / TMP_DIR
    ignore = tmp / ".gitignore"
    if not ignore.exists():
        tmp.mkdir(exist_ok=True)
        ignore.write_text("# temp files of pyagent-trace's atomic writes\n*\n")
    return tmp


def _remove_if_stale(path: Path, now: float) -> None:
    """Unlink a temp file of ours that nobody is writing: older than STALE_SECONDS and not
    locked (a live writer holds ``flock`` on its temp file until the rename)."""
    try:
        if now - path.lstat().st_mtime < STALE_SECONDS:
            return
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # a writer is alive
        return
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)


def clean_stale_temp_files(folder: Path) -> None:
    """Remove killed writes' temp files in ``folder`` (ours, and earlier versions' beside
    the targets). Best effort: a file that cannot be removed is left alone."""
    now = time.time()
    for where, pattern in ((folder / TMP_DIR, None), (folder, _LEGACY_TMP)):
        try:
            names = [e.name for e in os.scandir(where) if e.name.endswith(".tmp")]
        except OSError:
            continue
        for name in names:
            if pattern is None or pattern.match(name):
                _remove_if_stale(where / name, now)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via temp file + fsync + rename; creates parent folders.

    The temp file sits in ``TMP_DIR`` beside ``path``, locked while written; stale ones
    from killed writes are cleaned first (see ``clean_stale_temp_files``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=_tmp_folder(path.parent), prefix=f".{path.name}.", suffix=".tmp")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # tells a concurrent cleaner this write is alive
        os.fchmod(fd, _mode_for(path))  # mkstemp makes 0600; a cassette keeps normal permissions
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(tmp_name, path)  # still locked: closing the file releases the lock
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _bad_line(path: Path, number: int, line: bytes, err: orjson.JSONDecodeError) -> BadRecordingError:
    shown = line[:80].decode("utf-8", "replace")
    msg = (
        f"{path}:{number}: not valid JSON ({err.msg}): {shown!r}. "
        "A recording has one JSON object per line; fix or delete that line, "
        "or re-record the file."
    )
    return BadRecordingError(msg, path=str(path), line=number)


def not_regular(path: Path, mode: int) -> str:
    """Why ``path`` (with ``st_mode`` ``mode``) cannot be read as a recording: the one
    message for a folder, a FIFO (its read would hang) or a device (``/dev/zero`` never ends)."""
    if stat.S_ISDIR(mode):
        return f"{path} is a directory, not a JSONL recording. Give the path of a .jsonl file."
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file"
    return f"{path} is {kind}, not a regular file; a recording is a .jsonl file of its own."


def _open_regular(path: Path) -> tuple[int, int]:
    """``path`` opened for reading (a descriptor) and its size, refused unless it is a
    regular file. ``O_NONBLOCK`` makes opening a FIFO return at once instead of waiting
    for a writer; ``fstat`` on the opened descriptor then decides (no race with a swapped path)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadRecordingError(not_regular(path, info.st_mode), path=str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def _read_all(fd: int, size: int) -> bytes:
    """A small file whole, with plain ``read`` calls (half the cost of ``Path.read_bytes``,
    which matters for the many small cassettes of a suite)."""
    chunks = [os.read(fd, size + 1)]
    while chunks[-1]:
        chunks.append(os.read(fd, max(size, 1 << 16)))
    return b"".join(chunks)


def _lines(fd: int, size: int, path: Path) -> Iterator[bytes]:
    """The file's lines without their newline. A file no bigger than one line may be is read
    at once (the fast path); a bigger one is streamed, each line at most MAX_LINE_BYTES."""
    limit = MAX_LINE_BYTES
    if size <= limit:
        yield from _read_all(fd, size).split(b"\n")
        return
    with os.fdopen(os.dup(fd), "rb") as handle:
        number = 0
        while line := handle.readline(limit + 1):
            number += 1
            if len(line) > limit:
                msg = (
                    f"{path}:{number}: line longer than {limit // 2**20} MiB; a cassette line is one call. "
                    "This is not a recording pyagent-trace wrote: re-record it (pytest --record-mode=all)."
                )
                raise BadRecordingError(msg, path=str(path), line=number)
            yield line[:-1] if line.endswith(b"\n") else line


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line; the error names file and line.

    Only a regular file is read (see ``_open_regular``), with a bounded line size."""
    file_path = path if isinstance(path, Path) else Path(path)  # Path(a Path) costs a re-parse
    fd, size = _open_regular(file_path)
    loads = orjson.loads
    try:
        for number, line in enumerate(_lines(fd, size, file_path), start=1):
            if not line:
                continue
            try:
                value = loads(line)
            except orjson.JSONDecodeError as err:
                if not line.strip():
                    continue
                raise _bad_line(file_path, number, line, err) from None
            if type(value) is not dict:
                msg = (
                    f"{file_path}:{number}: expected a JSON object per line, found "
                    f"{type(value).__name__} {value!r:.60}. Re-record the file."
                )
                raise BadRecordingError(msg, path=str(file_path), line=number)
            yield number, value
    finally:
        os.close(fd)
