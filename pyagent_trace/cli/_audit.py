"""``pyagent-trace audit PATHS…``: fail CI (or a commit) when a cassette holds a secret.

Files and folders (every ``*.jsonl`` below, hidden folders skipped) are read line by line
through the one scrubber, nothing is written. A line that is not JSON is still scanned as
text. Each finding names the file, the line, the field and the kind of secret, never the
secret. Exit 0 when clean, 1 on a find, 2 when a path cannot be read.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from pyagent_trace.cli._common import EXIT_ERROR
from pyagent_trace.cli._display import printable
from pyagent_trace.scrub import Found, Scrubber

__all__ = ["AuditFinding", "audit", "audit_file"]


class Format(enum.StrEnum):
    text = "text"
    json = "json"
    github = "github"


@dataclass(frozen=True, slots=True)
class AuditFinding:
    file: str
    line: int
    field: str
    kind: str


def _rows(data: bytes) -> Iterator[tuple[int, Any]]:
    """``(line number, JSON object or the raw line as text)`` for each non-blank line."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            value = line.decode("utf-8", "replace")
        yield number, value


def _scan(scrubber: Scrubber, value: Any) -> list[Found]:
    if type(value) is dict:
        return scrubber.row(value)[1]
    return scrubber.value(value, "(line)")[1]


def audit_file(path: Path) -> list[AuditFinding]:
    """The secrets in one JSONL file (two passes: a value learnt late counts everywhere)."""
    rows = list(_rows(path.read_bytes()))
    scrubber = Scrubber()
    for _, value in rows:
        _scan(scrubber, value)
    namer = Scrubber()  # a location is printed: a secret used as a JSON key is not
    return [
        AuditFinding(str(path), number, printable(namer.text(found.where)) or "(line)", found.kind)
        for number, value in rows
        for found in dict.fromkeys(_scan(scrubber, value))
    ]


def _files(paths: list[Path], errors: list[str]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                yield from (Path(root) / n for n in sorted(names) if n.endswith(".jsonl"))
            continue
        try:
            regular = stat.S_ISREG(path.stat().st_mode)
        except OSError as err:
            errors.append(f"{path}: cannot be read ({err.strerror or err}); check the path.")
            continue
        if regular:
            yield path
        else:
            errors.append(f"{path}: not a regular file or folder; give cassette files or folders.")


def _github(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _report(findings: list[AuditFinding], checked: int, errors: list[str], fmt: Format) -> None:
    if fmt is Format.json:
        data = {"files_checked": checked, "findings": [asdict(f) for f in findings], "errors": errors}
        typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    for f in findings:
        if fmt is Format.github:
            where = f"file={_github(f.file, prop=True)},line={f.line},title=pyagent-trace audit"
            typer.echo(f"::error {where}::{_github(f'{f.kind} in {f.field}. Remove it: pyagent-trace scrub {f.file}')}")
        else:
            typer.echo(printable(f"{f.file}:{f.line}: {f.kind} in {f.field}"))
    for error in errors:
        typer.echo(printable(f"error: {error}"), err=True)
    if fmt is Format.github:
        return
    if findings:
        files = sorted({f.file for f in findings})
        typer.echo(
            printable(
                f"{len(findings)} secret(s) in {len(files)} of {checked} file(s). Redact them with: "
                f"pyagent-trace scrub {' '.join(files)} - and rotate any real key that was committed."
            )
        )
    else:
        typer.echo(f"No secrets in {checked} file(s).")


def audit(
    paths: Annotated[
        list[Path], typer.Argument(help="Cassette files or folders (every *.jsonl below).", show_default=False)
    ],
    fmt: Annotated[
        Format, typer.Option("--format", help="text for people, json for scripts, github for CI annotations.")
    ] = Format.text,
) -> None:
    """Find secrets in cassettes without changing them: exit 1 if any (for CI and pre-commit).

    Checks the same things the recorder and `scrub` redact: secret headers, query
    parameters and JSON fields, key-shaped strings (OpenAI, Anthropic, Google, AWS, GitHub,
    Slack, JWT, bearer tokens, private keys), also in binary bodies and across stream events.
    """
    errors: list[str] = []
    findings: list[AuditFinding] = []
    checked = 0
    for file in _files(paths, errors):
        try:
            findings += audit_file(file)
        except OSError as err:
            errors.append(f"{file}: cannot be read ({err.strerror or err}); check its permissions.")
            continue
        checked += 1
    _report(findings, checked, errors, fmt)
    if findings:
        raise typer.Exit(1)
    if errors:
        raise typer.Exit(EXIT_ERROR)
