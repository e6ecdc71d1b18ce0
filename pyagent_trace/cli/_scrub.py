"""``pyagent-trace scrub FILE``: re-apply the secret filters to a cassette already on disk.

The file is rewritten atomically, and only when something was removed. Recordings go
through the recording format (``Scrubber.entry``); JsonlExporter lines keep their own shape.
One scrubber per file, run twice: a secret value learnt on a later line is redacted on
earlier lines too.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pyagent_trace._jsonl_io import atomic_write_bytes, dump_lines, iter_jsonl
from pyagent_trace._recording import HEADER_EVENT, entries_from_rows, save_entries
from pyagent_trace.cli._common import fail, keep_mode, read_error
from pyagent_trace.cli._display import printable
from pyagent_trace.exceptions import BadRecordingError, ConfigError
from pyagent_trace.scrub import Found, Scrubber, ScrubConfig

__all__ = ["scrub"]

Finding = tuple[int, str, list[Found]]  # line number, what the line is, what was removed


def _read(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        rows = list(iter_jsonl(path)) if path.exists() else None
    except (OSError, BadRecordingError) as err:
        fail(read_error(path, err))
    if rows is None:
        fail(f"Cassette {str(path)!r} does not exist. Check the path.")
    if not [r for _, r in rows if r.get("event_type") != HEADER_EVENT]:
        fail(f"{str(path)!r} holds no entries (an empty recording); there is nothing to scrub.")
    return rows


def scrubber_text(text: str) -> str:
    """A location to print: a secret used as a JSON key is not printed either."""
    return Scrubber().text(text)


def _label(row: dict[str, Any]) -> str:
    return " ".join(str(row.get(k)) for k in ("event_type", "agent_name") if row.get(k))


def _scrub_events(
    path: Path, rows: list[tuple[int, dict[str, Any]]], config: ScrubConfig, write: bool
) -> list[Finding]:
    scrubber = Scrubber(config)
    for _, row in rows:  # first pass: learn every secret value of the file
        scrubber.row(row)
    findings: list[Finding] = []
    out = []
    for number, row in rows:
        new, removed = scrubber.row(row)
        out.append(new)
        if removed:
            findings.append((number, _label(row), removed))
    if findings and write:
        with keep_mode(path):
            atomic_write_bytes(path, dump_lines(out))
    return findings


def _scrub_recording(
    path: Path, rows: list[tuple[int, dict[str, Any]]], config: ScrubConfig, write: bool
) -> list[Finding]:
    try:
        entries = entries_from_rows(rows, str(path))
    except BadRecordingError as err:
        fail(str(err))
    numbers = [n for n, row in rows if row.get("event_type") != HEADER_EVENT]
    scrubber = Scrubber(config)
    for entry in entries:  # first pass: learn every secret value of the file
        scrubber.entry(entry)
    findings: list[Finding] = []
    cleaned = []
    for number, entry in zip(numbers, entries, strict=True):
        new, removed = scrubber.entry(entry)
        cleaned.append(new)
        if removed:
            findings.append((number, f"{entry.event_type} {entry.agent_name}".strip(), removed))
    if findings and write:
        with keep_mode(path):
            save_entries(path, cleaned)
    return findings


def scrub(
    file: Annotated[Path, typer.Argument(help="The cassette or recording to clean.", show_default=False)],
    check: Annotated[
        bool, typer.Option("--check", help="Only report; exit 1 if anything would be removed (for CI).")
    ] = False,
    header: Annotated[list[str] | None, typer.Option(help="Another header to redact (repeatable).")] = None,
    query: Annotated[list[str] | None, typer.Option(help="Another query parameter to redact.")] = None,
    body_path: Annotated[
        list[str] | None, typer.Option(help="Another JSON body path to redact, dotted: auth.token.")
    ] = None,
    field: Annotated[
        list[str] | None, typer.Option(help="Another JSON field name to redact at any depth (repeatable).")
    ] = None,
) -> None:
    """Redact API keys, auth headers, cookies and key-shaped strings, in place.

    The file is rewritten atomically and only when something was removed. With --check
    nothing is written, and the exit code is 1 if anything would be removed.
    """
    try:
        config = ScrubConfig().with_extra(
            headers=header or (), query=query or (), body_paths=body_path or (), fields=field or ()
        )
    except ConfigError as err:
        fail(str(err))
    rows = _read(file)
    is_events = any(type(row.get("payload")) is dict for _, row in rows)
    try:
        if is_events:
            findings = _scrub_events(file, rows, config, write=not check)
        else:
            findings = _scrub_recording(file, rows, config, write=not check)
    except OSError as err:
        fail(f"cannot rewrite {str(file)!r}: {err.strerror or err}. Check the folder's permissions.")
    if not findings:
        typer.echo(printable(f"{file}: nothing to scrub."))
        return
    count = sum(len(removed) for _, _, removed in findings)
    verb = "would remove" if check else "removed"
    typer.echo(printable(f"{file}: {verb} {count} secret{'s' * (count != 1)} from {len(findings)} line(s):"))
    for number, label, removed in findings:
        for where in removed:
            typer.echo(printable(f"  {file}:{number} ({label}): {scrubber_text(str(where))}"))
    if check:
        typer.echo(printable(f"Run: pyagent-trace scrub {file}"))
        raise typer.Exit(1)
