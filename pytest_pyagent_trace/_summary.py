"""The end-of-run summary, computed as data: what each test did, added up.

Each test's numbers travel in its report's ``user_properties`` (so pytest-xdist carries
them from workers to the controller); ``SessionReport`` adds them up and says what to do.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pyagent_trace._usd import usd_exact

__all__ = ["PROPERTY", "SessionReport", "TestUsage", "drift_headline"]

PROPERTY = "pyagent_trace"


@dataclass(slots=True)
class TestUsage:
    """What one test did with the plugin."""

    __test__ = False

    nodeid: str
    mode: str = ""
    cassette: str = ""
    missing: bool = False
    no_calls: bool = False
    written: bool = False
    calls_replayed: int = 0
    calls_recorded: int = 0
    unused_calls: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    unpriced_calls: int = 0
    refused: list[str] = field(default_factory=list)
    by_agent: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_model: dict[str, dict[str, Any]] = field(default_factory=dict)
    drift: dict[str, Any] | None = None
    """Record mode check: how the live calls differ from the cassette (``pyagent_trace.drift.Drift.to_dict``
    plus ``rerecord``, the command that re-records just this test); None in other modes."""

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy is the slowest part of a test's report.
        row = {name: getattr(self, name) for name in _USAGE_FIELDS} | {"refused": list(self.refused)}
        if self.drift is None:  # only a check run has drift: other reports stay as they were
            del row["drift"]
        return row


_USAGE_FIELDS = tuple(f.name for f in dataclasses.fields(TestUsage) if f.name != "refused")
_DIFF_LINES_SHOWN = 30  # per test, in the terminal summary
_DIFFS_SHOWN = 10  # tests whose diff the terminal summary shows


def drift_headline(drift: dict[str, Any]) -> str:
    """``1 call changed; tokens 150 → 180; $0.00045 → $0.00054``."""
    counts = [(drift["calls_added"], "added"), (drift["calls_removed"], "removed"), (drift["calls_changed"], "changed")]
    what = ", ".join(f"{n} call{'s' * (n != 1)} {word}" for n, word in counts if n)
    if not drift["baseline"]:
        what = "no committed cassette to compare with"
    before, after = drift["before"], drift["after"]
    tokens = f"tokens {before['tokens']:,} → {after['tokens']:,}"
    return f"{what}; {tokens}; {usd_exact(before['cost_usd'])} → {usd_exact(after['cost_usd'])}"


@dataclass(slots=True)
class SessionReport:
    """Everything the summary prints, and the ``--cost-report`` JSON."""

    mode: str
    tests: dict[str, TestUsage] = field(default_factory=dict)
    stale_cassettes: list[str] = field(default_factory=list)
    strict: bool = False

    def add(self, usage: TestUsage) -> None:
        self.tests[usage.nodeid] = usage

    @property
    def used(self) -> list[TestUsage]:
        return [t for t in self.tests.values() if t.cassette or t.cost_usd or t.tokens or t.refused]

    @property
    def checked(self) -> list[TestUsage]:
        """Tests of a drift check (record mode check), by node id."""
        return sorted((t for t in self.tests.values() if t.drift is not None), key=lambda t: t.nodeid)

    def totals(self) -> dict[str, Any]:
        """Added up as ``pyagent-trace report merge`` adds up shards (one function for both)."""
        from pyagent_trace.run_report import run_totals  # not at import: an unused plugin stays light

        return run_totals([t.to_dict() for t in self.used])

    def to_json(self) -> dict[str, Any]:
        """The ``--cost-report`` file (format in ``pyagent_trace.run_report``)."""
        from pyagent_trace.run_report import run_report_json

        return run_report_json(self.mode, (t.to_dict() for t in self.used), self.stale_cassettes)

    def lines(self, top: int = 5) -> list[str]:
        """Summary lines; empty when the plugin had nothing to do in this run."""
        used = self.used
        if not used and not self.stale_cassettes:
            return []
        t = self.totals()
        recorded = t["calls_recorded"]
        check = self.mode == "check"
        made = "made live (nothing written)" if check else "recorded"
        paid = "live" if check else "recorded"
        spend = f"{recorded} {paid} calls paid for" if recorded else "replayed, nothing spent"
        lines = [
            f"mode {self.mode}: {t['cassettes_used']} cassettes used, {t['cassettes_written']} written, "
            f"{len(t['cassettes_missing'])} missing; {t['calls_replayed']} calls replayed, "
            f"{t['calls_recorded']} {made}; {t['connections_refused']} network connections refused",
        ]
        spenders = [u for u in used if u.cost_usd or u.tokens or u.unpriced_calls]
        if spenders:
            lines.append(
                f"spend: {usd_exact(t['cost_usd'])} over {t['tokens']:,} tokens in {len(spenders)} tests ({spend})"
            )
        if t["unpriced_calls"]:
            lines.append(
                f"{t['unpriced_calls']} calls used models with no price: their cost is unknown, not $0. "
                "Add prices by overriding the pyagent_trace_prices fixture."
            )
        costly = sorted((u for u in used if u.cost_usd > 0), key=lambda u: (-u.cost_usd, u.nodeid))[:top]
        if costly:
            lines.append(f"most expensive tests (top {len(costly)}):")
            width = max(len(usd_exact(u.cost_usd)) for u in costly)
            lines.extend(f"  {usd_exact(u.cost_usd):>{width}}  {u.nodeid}" for u in costly)
        lines.extend(self._drift())
        lines.extend(self._problems(t))
        return lines

    def _drift(self) -> list[str]:
        """Record mode check: each drifted test, its diff (cut), and how to re-record just them."""
        checked = self.checked
        if not checked:
            return []
        drifted = [t for t in checked if t.drift and t.drift["drifted"]]
        if not drifted:
            return [f"drift: none; the live calls of {len(checked)} checked tests match their cassettes."]
        lines = [f"drift: {len(drifted)} of {len(checked)} checked tests differ from their cassettes:"]
        for number, test in enumerate(drifted):
            drift = test.drift or {}
            lines.append(f"  {test.nodeid}: {drift_headline(drift)}")
            diff = drift["diff"] if number < _DIFFS_SHOWN else []
            lines.extend(f"      {line}" if line else "" for line in diff[:_DIFF_LINES_SHOWN])
            if len(diff) > _DIFF_LINES_SHOWN:
                lines.append(f"      ... ({len(diff) - _DIFF_LINES_SHOWN} more lines in --cost-report)")
        if len(drifted) > _DIFFS_SHOWN:
            lines.append(f"  (diffs of the first {_DIFFS_SHOWN} tests shown; all of them are in --cost-report)")
        from pytest_pyagent_trace._context import rerecord_command

        lines.append(
            "Review the diffs; to accept them, re-record just these tests with: "
            + rerecord_command(*(t.nodeid for t in drifted))
        )
        return lines

    def _problems(self, t: dict[str, Any]) -> list[str]:
        lines: list[str] = []
        if t["tests_without_calls"]:
            quiet = t["tests_without_calls"]
            lines.append(
                f"{len(quiet)} cassette tests made no LLM calls, so they have no cassette: "
                f"{', '.join(quiet[:5])}{' …' if len(quiet) > 5 else ''}. Drop their cassette marker if "
                "they never call an LLM."
            )
        if t["cassettes_missing"]:
            lines.append(
                f"{len(t['cassettes_missing'])} cassettes missing: {', '.join(t['cassettes_missing'][:5])}. "
                "Record them with --record-mode=once."
            )
        if t["unused_calls"]:
            lines.append(
                f"{t['unused_calls']} recorded calls were never used by their tests. Re-run with --record "
                "to refresh those cassettes" + ("." if self.strict else ", or --strict-cassettes to fail on them.")
            )
        if self.stale_cassettes:
            lines.append(f"{len(self.stale_cassettes)} cassettes no collected test uses:")
            lines.extend(f"  {path}" for path in self.stale_cassettes[:20])
            lines.append(
                "Delete them if their tests are gone"
                + (
                    " (--strict-cassettes fails the run on them)."
                    if self.strict
                    else "; --strict-cassettes fails on them."
                )
            )
        refused = sorted({host for u in self.used for host in u.refused})
        if refused:
            lines.append(
                f"refused connections to: {', '.join(refused[:10])}. Record the tests that need them with "
                "--record-mode=once, or allow the network with --allow-network."
            )
        return lines
