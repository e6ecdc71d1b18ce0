"""What the plugin does around one test, decided once per test before it runs.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pyagent_trace.exceptions import PyAgentTraceError
from pyagent_trace.record_mode import RecordMode
from pytest_pyagent_trace._context import (
    MARKER_ERROR,
    RunState,
    baseline,
    has_cassette,
    item_cassette,
    marker_of,
    test_mode,
    uses_plugin,
)

__all__ = ["PLAN", "Plan", "plan_for"]

PLAN = pytest.StashKey["Plan | None"]()


@dataclass(frozen=True, slots=True)
class Plan:
    """What the plugin does around a test that uses it."""

    block: bool
    """Refuse non-loopback connections (a cassette test that only replays, or --block-network)."""
    replays_only: bool
    """A cassette test that cannot record: provider SDKs get placeholder keys."""
    cassette: bool = False
    """The test has a cassette (marker or fixture)."""


def plan_for(item: pytest.Item, state: RunState) -> Plan | None:
    """None for a test that uses nothing of the plugin (and is not under --block-network)."""
    if PLAN in item.stash:
        return item.stash[PLAN]
    cassette_test = has_cassette(item) and MARKER_ERROR not in item.stash
    if not (uses_plugin(item) or state.block_all):
        plan = None
    else:
        replays_only = False
        if cassette_test:
            mode = _mode_or_none(item, state)
            path = _path_or_none(item, state)
            exists = path is not None and _exists_or_none(item, path, mode)
            replays_only = mode is RecordMode.NONE or (mode is RecordMode.ONCE and exists)
        records = _mode_or_none(item, state) is not RecordMode.NONE and not replays_only if cassette_test else False
        vcr_records = item.get_closest_marker("vcr") is not None  # pytest-recording decides for its tests
        block = not state.allow_network and (replays_only or (state.block_all and not records and not vcr_records))
        plan = Plan(block=block, replays_only=replays_only, cassette=cassette_test)
    item.stash[PLAN] = plan
    return plan


def _mode_or_none(item: pytest.Item, state: RunState) -> RecordMode | None:
    try:
        return test_mode(item, state)
    except PyAgentTraceError:
        return None


def _path_or_none(item: pytest.Item, state: RunState) -> Path | None:
    try:
        return item_cassette(item, state)
    except PyAgentTraceError:
        return None


def _exists_or_none(item: pytest.Item, path: Path, mode: RecordMode | None) -> bool:
    """Whether the test had something to replay before it ran: the cassette file, or its
    part of a shared one (the ``existed`` its Cassette will see). A bad file fails later."""
    from pyagent_trace.cassette._file import own_part

    try:
        found = baseline(item, path, mode)
    except (PyAgentTraceError, OSError):
        return True
    shared_by = item.nodeid if marker_of(item).path is not None else None
    return found is not None and (shared_by is None or bool(own_part(found, shared_by)))
