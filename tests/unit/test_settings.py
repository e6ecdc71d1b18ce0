"""The plugin's pure settings logic: mode precedence and contradicting flags."""

from __future__ import annotations

import pytest

from pyagent_trace.exceptions import ConfigError
from pytest_pyagent_trace._settings import (
    ModeSources,
    RecordMode,
    check_no_contradiction,
    command_line_modes,
    resolve_mode,
)


def test_marker_beats_command_line_beats_ini_beats_the_default():
    assert resolve_mode(ModeSources("new", "all", "once")) is RecordMode.NEW
    assert resolve_mode(ModeSources(None, "all", "once")) is RecordMode.ALL
    assert resolve_mode(ModeSources(None, None, "once")) is RecordMode.ONCE
    assert resolve_mode(ModeSources(None, None, "")) is RecordMode.NONE


def test_an_unknown_mode_names_where_it_came_from_and_the_choices():
    with pytest.raises(ConfigError, match=r"ini option pyagent_trace_record_mode: unknown record mode 'x'; choose"):
        resolve_mode(ModeSources(None, None, "x"))


def test_every_spelling_of_a_mode_flag_is_seen():
    args = ["-q", "--record-mode", "once", "--replay", "--record-mode=new"]
    assert command_line_modes(args) == {"--record-mode=once": "once", "--replay": "none", "--record-mode=new": "new"}


def test_the_same_mode_twice_is_fine_but_two_modes_are_refused():
    check_no_contradiction(["--record", "--record-mode=all"])
    with pytest.raises(ConfigError, match="--record and --replay contradict each other"):
        check_no_contradiction(["--record", "--replay"])
