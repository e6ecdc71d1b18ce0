"""Pure settings logic: record modes, their precedence, cassette paths.

Precedence for every setting: marker (narrowest first) → command line → ini → default.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyagent_trace.exceptions import ConfigError
from pyagent_trace.record_mode import RECORDING_ALIASES, RecordMode

__all__ = [
    "MATCHES",
    "RECORDING_ALIASES",
    "CassetteMarker",
    "DriftSettings",
    "RecordMode",
    "cassette_path",
    "command_line_mode",
    "drift_settings",
    "parse_cassette_marker",
    "resolve_mode",
    "safe_file_name",
    "split_list",
]


@dataclass(frozen=True, slots=True)
class ModeSources:
    """Where a mode can come from, narrowest first."""

    marker: str | None
    command_line: str | None
    ini: str | None


def command_line_mode(record_mode: str | None, *, record: bool, replay: bool) -> str | None:
    """The mode the parsed command line asks for (``--record-mode``, ``--record``, ``--replay``;
    from argv, ini ``addopts`` or ``PYTEST_ADDOPTS`` alike), or None when it asks for none.

    Two different modes are refused: ``--record --replay`` would otherwise keep the last one.
    """
    asked: dict[str, str] = {}
    if record_mode is not None:
        asked[f"--record-mode={record_mode}"] = RECORDING_ALIASES.get(record_mode, record_mode)
    if record:
        asked["--record"] = "all"
    if replay:
        asked["--replay"] = "none"
    if len(set(asked.values())) > 1:
        msg = f"{' and '.join(asked)} contradict each other (command line, addopts or PYTEST_ADDOPTS); choose one."
        raise ConfigError(msg)
    return next(iter(asked.values()), None)


def resolve_mode(sources: ModeSources) -> RecordMode:
    """The first mode set, marker → command line → ini; ``none`` (never spend money) by default."""
    if sources.marker is not None:
        return RecordMode.parse(sources.marker, "@pytest.mark.cassette(record_mode=…)")
    if sources.command_line is not None:
        return RecordMode.parse(sources.command_line, "--record-mode")
    if sources.ini:
        return RecordMode.parse(sources.ini, "ini option pyagent_trace_record_mode")
    return RecordMode.NONE


@dataclass(frozen=True, slots=True)
class DriftSettings:
    """The ini's drift threshold (``pyagent_trace_drift_fail``) and default cost
    regression ratio (``pyagent_trace_cost_regression``; None: off)."""

    fail: str = "none"
    regression: float | None = None


def drift_settings(fail: str, regression: str) -> DriftSettings:
    """The two ini values, checked (a ConfigError names the key and what it takes). The
    drift module is imported only when one of them is set."""
    fail = fail.strip().lower() or "none"
    if fail == "none" and not regression.strip():
        return DriftSettings()
    from pyagent_trace.drift import DRIFT_LEVELS, check_ratio

    if fail not in DRIFT_LEVELS:
        msg = f"ini option pyagent_trace_drift_fail = {fail!r}: use one of {', '.join(DRIFT_LEVELS)}."
        raise ConfigError(msg)
    ratio: float | None = None
    if regression.strip():
        try:
            number: object = float(regression)
        except ValueError:
            number = regression.strip()
        ratio = check_ratio(number, "ini option pyagent_trace_cost_regression")
    return DriftSettings(fail, ratio)


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


MATCHES = ("messages", "order")
_MARKER_ARGS = ("path", "record_mode", "match")


@dataclass(frozen=True, slots=True)
class CassetteMarker:
    """``@pytest.mark.cassette(path=None, *, record_mode=None, match=None)``, checked."""

    path: str | None = None
    record_mode: str | None = None
    match: str | None = None


def parse_cassette_marker(args: Sequence[object], kwargs: Mapping[str, object], nodeid: str) -> CassetteMarker:
    """The marker's arguments, or a ConfigError naming the test, the argument and what is allowed."""
    where = f"{nodeid}: @pytest.mark.cassette"
    unknown = sorted(set(kwargs) - set(_MARKER_ARGS))
    if unknown:
        msg = f"{where}: unknown argument {unknown[0]!r}; the arguments are path, record_mode and match."
        raise ConfigError(msg)
    if len(args) > 1 or (args and "path" in kwargs):
        msg = f"{where}: give one cassette path, positionally or as path=."
        raise ConfigError(msg)
    path = args[0] if args else kwargs.get("path")
    if path is not None and not isinstance(path, str | os.PathLike):
        msg = f"{where}: path={path!r} is a {type(path).__name__}; give a file name such as 'shared.jsonl'."
        raise ConfigError(msg)
    mode = kwargs.get("record_mode")
    if mode is not None:
        if not isinstance(mode, str):
            msg = f"{where}: record_mode={mode!r}; give one of: {', '.join(m.value for m in RecordMode)}."
            raise ConfigError(msg)
        RecordMode.parse(mode, f"{where}(record_mode=…)")
    match = kwargs.get("match")
    if match is not None and match not in MATCHES:
        msg = f"{where}: match={match!r}; give one of: {', '.join(MATCHES)}."
        raise ConfigError(msg)
    return CassetteMarker(None if path is None else os.fspath(path), mode, match)


def split_list(values: Sequence[str]) -> list[str]:
    """An ini list written one per line, or space / comma separated on one line."""
    return [part for value in values for part in re.split(r"[\s,]+", value) if part]
