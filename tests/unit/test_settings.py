"""The plugin's pure settings logic: mode precedence and contradicting flags."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from pyagent_trace.exceptions import ConfigError
from pytest_pyagent_trace._options import translate_for_recording
from pytest_pyagent_trace._settings import (
    ModeSources,
    RecordMode,
    command_line_mode,
    parse_cassette_marker,
    resolve_mode,
    split_list,
)


def test_marker_beats_command_line_beats_ini_beats_the_default():
    assert resolve_mode(ModeSources("new", "all", "once")) is RecordMode.NEW
    assert resolve_mode(ModeSources(None, "all", "once")) is RecordMode.ALL
    assert resolve_mode(ModeSources(None, None, "once")) is RecordMode.ONCE
    assert resolve_mode(ModeSources(None, None, "")) is RecordMode.NONE


def test_an_unknown_mode_names_where_it_came_from_and_the_choices():
    with pytest.raises(ConfigError, match=r"ini option pyagent_trace_record_mode: unknown record mode 'x'; choose"):
        resolve_mode(ModeSources(None, None, "x"))


def test_the_parsed_mode_flags_give_one_mode_whichever_spelling():
    assert command_line_mode(None, record=False, replay=False) is None
    assert command_line_mode("once", record=False, replay=False) == "once"
    assert command_line_mode(None, record=True, replay=False) == "all"
    assert command_line_mode("all", record=True, replay=False) == "all"
    assert command_line_mode("rewrite", record=True, replay=False) == "all"


def test_two_modes_are_refused_wherever_they_came_from():
    with pytest.raises(ConfigError, match="--record and --replay contradict each other"):
        command_line_mode(None, record=True, replay=True)
    with pytest.raises(ConfigError, match="--record-mode=once and --record contradict"):
        command_line_mode("once", record=True, replay=False)


def test_pytest_recording_spellings_mean_our_modes():
    assert resolve_mode(ModeSources(None, "new_episodes", None)) is RecordMode.NEW
    assert resolve_mode(ModeSources(None, "rewrite", None)) is RecordMode.ALL
    assert resolve_mode(ModeSources("new_episodes", None, None)) is RecordMode.NEW


def test_a_checked_marker_keeps_its_values():
    marker = parse_cassette_marker(("shared.jsonl",), {"record_mode": "new", "match": "order"}, "t.py::test")
    assert (marker.path, marker.record_mode, marker.match) == ("shared.jsonl", "new", "order")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {"record_mod": "new"}, "t.py::test: @pytest.mark.cassette: unknown argument 'record_mod'; the"),
        ((), {"path": 123}, "path=123 is a int; give a file name"),
        (("a.jsonl", "b.jsonl"), {}, "give one cassette path"),
        (("a.jsonl",), {"path": "b.jsonl"}, "give one cassette path"),
        ((), {"record_mode": "sometimes"}, "unknown record mode 'sometimes'; choose one of: none, once, new, all"),
        ((), {"record_mode": 3}, "record_mode=3; give one of: none, once, new, all"),
        ((), {"match": "fuzzy"}, "match='fuzzy'; give one of: messages, order"),
    ],
)
def test_a_bad_marker_names_the_test_the_argument_and_the_choices(args, kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_cassette_marker(args, kwargs, "t.py::test")


def test_ini_lists_take_lines_spaces_and_commas():
    assert split_list(["x-api-key x-org", "x-team,x-tenant", "", "  x-one  "]) == [
        "x-api-key",
        "x-org",
        "x-team",
        "x-tenant",
        "x-one",
    ]


@pytest.mark.parametrize(("ours", "theirs"), [("new", "new_episodes"), ("all", "rewrite"), ("check", "none")])
def test_pytest_recording_gets_the_mode_in_its_own_words(ours, theirs):
    """check has no vcrpy word (every vcrpy mode that calls live also writes): pytest-recording's tests replay."""
    option = SimpleNamespace(record_mode=ours, pyagent_trace_record=False, pyagent_trace_replay=False)

    translate_for_recording(SimpleNamespace(option=option))  # type: ignore[arg-type]

    assert option.record_mode == theirs


def test_check_mode_calls_live_like_all_but_never_writes():
    check = RecordMode.CHECK
    assert (check.records, check.rerecords, check.writes) == (True, True, False)
    assert not check.replays(existed=True)
    assert check.records_missing(existed=True)
    assert RecordMode.ALL.writes
