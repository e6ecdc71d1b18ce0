"""Pure settings logic: record modes, their precedence, cassette paths.

Precedence for every setting: marker (narrowest first) → command line → ini → default.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pyagent_trace.exceptions import ConfigError

__all__ = [
    "RecordMode",
    "cassette_path",
    "resolve_mode",
    "safe_file_name",
]


class RecordMode(StrEnum):
    """vcrpy's record modes, with its meanings."""

    NONE = "none"  # replay only; a missing cassette fails; the network is blocked
    ONCE = "once"  # record a cassette that does not exist yet, else replay it
    NEW = "new"  # replay what is recorded, record calls that are missing
    ALL = "all"  # re-record everything

    @property
    def records(self) -> bool:
        return self is not RecordMode.NONE

    @classmethod
    def parse(cls, value: str, where: str) -> RecordMode:
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            msg = f"{where}: unknown record mode {value!r}; choose one of: {choices}."
            raise ConfigError(msg) from None


@dataclass(frozen=True, slots=True)
class ModeSources:
    """Where a mode can come from, narrowest first."""

    marker: str | None
    command_line: str | None
    ini: str | None


_MODE_FLAGS = {"--record": "all", "--replay": "none"}


def command_line_modes(args: Sequence[str]) -> dict[str, str]:
    """Each mode flag on the command line with the mode it asks for (to catch contradictions)."""
    found: dict[str, str] = {}
    for arg, following in zip(args, [*args[1:], ""], strict=True):
        if arg in _MODE_FLAGS:
            found[arg] = _MODE_FLAGS[arg]
        elif arg.startswith("--record-mode="):
            found[arg] = arg.split("=", 1)[1]
        elif arg == "--record-mode":
            found[f"--record-mode={following}"] = following
    return found


def check_no_contradiction(args: Sequence[str]) -> None:
    """``--record --replay`` would silently keep the last one: refuse it instead."""
    found = command_line_modes(args)
    if len(set(found.values())) > 1:
        msg = f"{' and '.join(found)} contradict each other; choose one record mode."
        raise ConfigError(msg)


def resolve_mode(sources: ModeSources) -> RecordMode:
    """The first mode set, marker → command line → ini; ``none`` (never spend money) by default."""
    if sources.marker is not None:
        return RecordMode.parse(sources.marker, "@pytest.mark.cassette(record_mode=…)")
    if sources.command_line is not None:
        return RecordMode.parse(sources.command_line, "--record-mode")
    if sources.ini:
        return RecordMode.parse(sources.ini, "ini option pyagent_trace_record_mode")
    return RecordMode.NONE


_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]=+,@]+")
_MAX_NAME = 200


def safe_file_name(name: str) -> str:
    """A test name usable as a file name on every OS (parametrize ids included).

    A name that had to be changed (characters replaced, or cut to 200 characters) gets
    a short hash of the original, so ids such as ``a/b`` and ``a:b`` stay two files.
    """
    cleaned = _UNSAFE.sub("-", name).strip("-.") or "test"
    if cleaned == name and len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{cleaned[: _MAX_NAME - 9]}-{digest}"


def cassette_path(
    *,
    test_file: Path,
    test_name: str,
    class_name: str | None,
    root: str | None,
    rootdir: Path,
    explicit: str | None,
) -> Path:
    """Where a test's cassette lives.

    Default ``cassettes/<module>/<Class.>test.jsonl`` beside the test file; ``root`` (ini,
    relative to the rootdir) collects them in one tree mirroring the test folders; a
    marker path is taken relative to the test file's folder, like pytest-recording.
    """
    if explicit:
        given = Path(explicit)
        if given.suffix == "":
            given = given.with_suffix(".jsonl")
        return given if given.is_absolute() else test_file.parent / given
    if root:
        try:
            relative_dir = test_file.parent.relative_to(rootdir)
        except ValueError:
            relative_dir = Path()
        base = rootdir / root / relative_dir
    else:
        base = test_file.parent / "cassettes"
    stem = f"{class_name}.{test_name}" if class_name else test_name
    return base / test_file.stem / f"{safe_file_name(stem)}.jsonl"
