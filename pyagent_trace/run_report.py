"""The ``--cost-report`` JSON of a test run: its totals, reading it back, merging shards.

One format and one way to add it up, used by the pytest plugin when it writes the report
and by ``pyagent-trace report merge`` when it joins the reports of a sharded CI run, so
the merged totals are the totals one unsharded run would have written. Tests carry keys
this module does not know (a later plugin's ``drift``, say) through a merge unchanged.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from pyagent_trace.exceptions import BadReportError

if TYPE_CHECKING:
    from pyagent_trace.cost import CostEntry

__all__ = [
    "FORMAT_VERSION",
    "GROUP_FIELDS",
    "add_groups",
    "calls_of",
    "merge_run_reports",
    "read_run_report",
    "run_report_json",
    "run_totals",
    "usage_groups",
]

FORMAT_VERSION = 1
"""Bumped when a field changes meaning; readers refuse versions they do not know."""

GROUP_FIELDS = ("calls", "tokens", "cost_usd", "unpriced_calls")
"""What a per-agent or per-model group counts."""

_DECIMALS = 10
_COUNTS = ("calls_replayed", "calls_recorded", "unused_calls", "tokens", "unpriced_calls")
_FLAGS = ("missing", "no_calls", "written")
_TEXTS = ("mode", "cassette")


def usage_groups(entries: Iterable[CostEntry]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """A test's calls, tokens, cost and unpriced calls by agent and by model."""
    entries = list(entries)
    return _groups(entries, "agent"), _groups(entries, "model")


def _groups(entries: Sequence[CostEntry], key: str) -> dict[str, dict[str, Any]]:
    members: dict[str, list[CostEntry]] = {}
    for entry in entries:
        members.setdefault(getattr(entry, key), []).append(entry)
    return {
        name: {
            "calls": len(group),
            "tokens": sum(e.tokens for e in group),
            "cost_usd": round(math.fsum(e.cost_usd for e in group), 12),
            "unpriced_calls": sum(not e.priced for e in group),
        }
        for name, group in members.items()
    }


def add_groups(tables: Iterable[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per-name groups added up over tests, costiest first (ties by name). Costs are
    summed exactly (``math.fsum``), so the order tests arrive in cannot change a digit."""
    calls: dict[str, list[Mapping[str, Any]]] = {}
    for table in tables:
        for name, group in table.items():
            calls.setdefault(name, []).append(group)
    out = {
        name: {
            "calls": sum(g["calls"] for g in groups),
            "tokens": sum(g["tokens"] for g in groups),
            "cost_usd": round(math.fsum(g["cost_usd"] for g in groups), _DECIMALS),
            "unpriced_calls": sum(g["unpriced_calls"] for g in groups),
        }
        for name, groups in calls.items()
    }
    return dict(sorted(out.items(), key=lambda item: (-item[1]["cost_usd"], item[0])))


def calls_of(test: Mapping[str, Any]) -> int:
    """The calls a test made: its agents' calls, else what its cassette replayed and recorded."""
    groups = test.get("by_agent") or {}
    if groups:
        return sum(int(g["calls"]) for g in groups.values())
    return int(test.get("calls_replayed", 0)) + int(test.get("calls_recorded", 0))


def run_totals(tests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The run's totals from its tests (the ``tests`` rows of the report)."""
    cassette = [t for t in tests if t.get("cassette")]
    checked = [t for t in tests if t.get("drift") is not None]
    drift = {"tests_drifted": sorted(t["nodeid"] for t in checked if t["drift"].get("drifted"))}
    return {
        "cassettes_used": len({t["cassette"] for t in cassette if not (t.get("missing") or t.get("no_calls"))}),
        "cassettes_written": len({t["cassette"] for t in cassette if t.get("written")}),
        "cassettes_missing": sorted({t["cassette"] for t in cassette if t.get("missing")}),
        "tests_without_calls": sorted(t["nodeid"] for t in tests if t.get("no_calls")),
        "calls_replayed": sum(t.get("calls_replayed", 0) for t in tests),
        "calls_recorded": sum(t.get("calls_recorded", 0) for t in tests),
        "unused_calls": sum(t.get("unused_calls", 0) for t in tests),
        "connections_refused": sum(len(t.get("refused", ())) for t in tests),
        "cost_usd": round(math.fsum(t.get("cost_usd", 0.0) for t in tests), _DECIMALS),
        "tokens": sum(t.get("tokens", 0) for t in tests),
        "unpriced_calls": sum(t.get("unpriced_calls", 0) for t in tests),
    } | (drift if checked else {})


def run_report_json(mode: str, tests: Iterable[Mapping[str, Any]], stale_cassettes: Sequence[str]) -> dict[str, Any]:
    """The report of a run: tests sorted by node id, totals, and cost by agent and model."""
    rows = sorted(tests, key=lambda t: t["nodeid"])
    return {
        "format_version": FORMAT_VERSION,
        "mode": mode,
        "totals": run_totals(rows),
        "by_agent": add_groups(t.get("by_agent") or {} for t in rows),
        "by_model": add_groups(t.get("by_model") or {} for t in rows),
        "stale_cassettes": list(stale_cassettes),
        "tests": rows,
    }


# -- reading ------------------------------------------------------------------------------
def _bad(path: Path, where: str, problem: str) -> BadReportError:
    msg = (
        f"{path}: {where} {problem}. Give a file written by pytest --cost-report "
        "(or by pyagent-trace report merge) and not edited since."
    )
    return BadReportError(msg, path=str(path), field=where)


def _is_amount(value: object, *, whole: bool) -> bool:
    if isinstance(value, bool):  # JSON true is not 1 token
        return False
    if isinstance(value, int):
        return value >= 0
    return not whole and isinstance(value, float) and math.isfinite(value) and value >= 0


def _check_number(path: Path, where: str, value: object, *, whole: bool) -> None:
    if not _is_amount(value, whole=whole):
        kind = "a whole number >= 0" if whole else "a finite number >= 0"
        raise _bad(path, where, f"must be {kind}, found {value!r}")


def _check_groups(path: Path, where: str, value: object) -> None:
    if not isinstance(value, dict):
        raise _bad(path, where, f"must be an object of name -> counts, found {type(value).__name__}")
    for name, group in value.items():
        if not isinstance(group, dict):
            raise _bad(path, f"{where}[{name!r}]", f"must be an object, found {type(group).__name__}")
        for key in GROUP_FIELDS:
            if key not in group:
                raise _bad(path, f"{where}[{name!r}].{key}", "is missing")
            _check_number(path, f"{where}[{name!r}].{key}", group[key], whole=key != "cost_usd")


def _check_test(path: Path, index: int, test: object) -> None:
    where = f"tests[{index}]"
    if not isinstance(test, dict):
        raise _bad(path, where, f"must be an object, found {type(test).__name__}")
    nodeid = test.get("nodeid")
    if not isinstance(nodeid, str) or not nodeid:
        raise _bad(path, f"{where}.nodeid", f"must be a non-empty string, found {nodeid!r}")
    for key in _TEXTS:
        if not isinstance(test.get(key, ""), str):
            raise _bad(path, f"{where}.{key}", f"must be a string, found {test[key]!r}")
    for key in _FLAGS:
        if not isinstance(test.get(key, False), bool):
            raise _bad(path, f"{where}.{key}", f"must be true or false, found {test[key]!r}")
    for key in _COUNTS:
        _check_number(path, f"{where}.{key}", test.get(key, 0), whole=True)
    _check_number(path, f"{where}.cost_usd", test.get("cost_usd", 0.0), whole=False)
    refused = test.get("refused", [])
    if not isinstance(refused, list) or not all(isinstance(h, str) for h in refused):
        raise _bad(path, f"{where}.refused", f"must be a list of host names, found {refused!r}")
    for key in ("by_agent", "by_model"):
        _check_groups(path, f"{where}.{key}", test.get(key, {}))


def read_run_report(path: Path) -> dict[str, Any]:
    """A run report, checked field by field; :class:`BadReportError` names the file and the
    field (``tests[3].cost_usd``) when something is off."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        msg = f"{path}: no such report. Check the path (pytest --cost-report=FILE writes one)."
        raise BadReportError(msg, path=str(path)) from None
    except OSError as err:
        msg = f"{path}: cannot read it ({err.strerror or err}). Check the path and its permissions."
        raise BadReportError(msg, path=str(path)) from None
    except orjson.JSONDecodeError as err:
        raise _bad(path, "the file", f"is not JSON ({err})") from None
    if not isinstance(data, dict):
        raise _bad(path, "the file", f"must hold a JSON object, found {type(data).__name__}")
    version = data.get("format_version")
    if version is None:
        raise _bad(path, "format_version", "is missing (a report from pyagent-trace before reports had versions?)")
    if version != FORMAT_VERSION:
        msg = (
            f"{path}: format_version {version!r} is not one this pyagent-trace reads (it reads "
            f"{FORMAT_VERSION}). Merge reports with the pyagent-trace version that wrote them."
        )
        raise BadReportError(msg, path=str(path), field="format_version")
    if not isinstance(data.get("mode"), str):
        raise _bad(path, "mode", f"must be a string, found {data.get('mode')!r}")
    tests, stale = data.get("tests"), data.get("stale_cassettes", [])
    if not isinstance(tests, list):
        raise _bad(path, "tests", f"must be a list, found {type(tests).__name__}")
    if not isinstance(stale, list) or not all(isinstance(s, str) for s in stale):
        raise _bad(path, "stale_cassettes", f"must be a list of paths, found {stale!r}")
    for index, test in enumerate(tests):
        _check_test(path, index, test)
    return data


# -- merging ------------------------------------------------------------------------------
def merge_run_reports(reports: Sequence[tuple[Path, Mapping[str, Any]]]) -> dict[str, Any]:
    """One report for the shards of a run: every test once, totals recomputed from them.

    A test in two shards with the same numbers (a shard job that was re-run and uploaded
    twice) counts once; with different numbers it is an error naming both files, since
    adding them up would count it twice and keeping one would hide the other. A cassette
    one shard found unused counts as stale unless a test of another shard used it.
    """
    if not reports:
        msg = "No reports to merge. Give the --cost-report files of every shard: report merge shard-*.json"
        raise BadReportError(msg)
    seen: dict[str, tuple[Path, Mapping[str, Any]]] = {}
    for path, report in reports:
        for test in report["tests"]:
            nodeid = test["nodeid"]
            if nodeid in seen and seen[nodeid][1] != test:
                first = seen[nodeid][0]
                msg = (
                    f"Test {nodeid!r} is in {first} and in {path} with different numbers: a shard "
                    "split that ran it twice. Split tests so each runs in one shard, or merge "
                    "only the reports of one run."
                )
                raise BadReportError(msg, path=str(path), field=nodeid)
            seen.setdefault(nodeid, (path, test))
    tests = [test for _, test in seen.values()]
    used = {t["cassette"] for t in tests if t.get("cassette")}
    stale = sorted({s for _, r in reports for s in r.get("stale_cassettes", ())} - used)
    modes = sorted({str(r["mode"]) for _, r in reports})
    return run_report_json(",".join(modes), tests, stale)
