"""Loading for the commands: every failure becomes one line on stderr and exit code 2.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import typer

from pyagent_trace.cli._display import display_spans, printable
from pyagent_trace.exceptions import BadRecordingError
from pyagent_trace.trace_service import TraceSpan, load_spans

__all__ = ["EXIT_ERROR", "fail", "keep_mode", "load_or_exit", "read_error"]

EXIT_ERROR = 2
"""Like diff(1): 0 same / success, 1 differences found, 2 trouble."""


def fail(message: str) -> NoReturn:
    """Print ``error: message`` as a single line on stderr and exit 2 (no traceback)."""
    typer.echo(f"error: {printable(' '.join(message.split()))}", err=True)
    raise typer.Exit(EXIT_ERROR)


def read_error(path: Path, err: Exception) -> str:
    """What went wrong reading ``path``, and what to do about it."""
    if isinstance(err, BadRecordingError) and err.line == 1 and "JSON" in str(err):
        return (
            f"{path}:1: this is not a JSONL trace file: its first line is not a JSON object. "
            "Give a recording, a cassette or JsonlExporter output (one JSON object per line)."
        )
    if isinstance(err, FileNotFoundError | BadRecordingError):
        return str(err)
    if isinstance(err, OSError):
        return f"cannot read {str(path)!r}: {err.strerror or err}. Check the path and its permissions."
    return f"cannot read {str(path)!r}: {err}"


def load_or_exit(path: Path) -> list[TraceSpan]:
    """The spans of ``path`` as they may be shown (``display_spans``); exits 2 with one
    line if the file is missing, unreadable, not JSONL, has a bad line (file:line), or
    holds no entries."""
    try:
        spans = load_spans(path)
    except (OSError, BadRecordingError, UnicodeDecodeError) as err:
        fail(read_error(path, err))
    if not spans:
        fail(f"{str(path)!r} holds no entries (an empty recording). Record a run into it first, or pass another file.")
    return display_spans(spans)


@contextlib.contextmanager
def keep_mode(path: Path) -> Iterator[None]:
    """Give ``path`` its old permissions (or the umask's default, if new) after an atomic
    write: the temporary file that replaces it is created 0600, which would silently make
    a shared cassette or report private."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o666 & ~umask
    yield
    os.chmod(path, mode)
