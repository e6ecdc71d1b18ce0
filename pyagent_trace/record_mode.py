"""Record modes, with vcrpy's meanings, decided in one place for every kind of call.

``check`` is ours alone: the calls go live as in ``all``, the cassette is the baseline
they are compared with (drift, cost regressions), and nothing is written.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pyagent_trace.exceptions import ConfigError

__all__ = ["RECORDING_ALIASES", "MatchMode", "RecordMode"]

MatchMode = Literal["messages", "order"]
# pytest-recording's words for the same modes (accepted wherever a mode is given).
RECORDING_ALIASES = {"new_episodes": "new", "rewrite": "all"}


class RecordMode(StrEnum):
    """What a cassette does with calls it has and calls it lacks."""

    NONE = "none"  # replay only; a call the cassette lacks is an error
    ONCE = "once"  # record a cassette that does not exist yet, else replay it
    NEW = "new"  # replay what is recorded, record calls that are missing
    ALL = "all"  # re-record everything
    CHECK = "check"  # call everything live like ``all``, compare with the cassette, write nothing

    @property
    def records(self) -> bool:
        """Whether this mode may call a real LLM (and spend money)."""
        return self is not RecordMode.NONE

    @property
    def rerecords(self) -> bool:
        """Whether every call goes live and the cassette's calls answer none (all, check)."""
        return self in (RecordMode.ALL, RecordMode.CHECK)

    @property
    def writes(self) -> bool:
        """Whether the cassette file may be written: every mode but ``check`` (a drift check
        leaves the committed cassette byte-identical)."""
        return self is not RecordMode.CHECK

    def replays(self, existed: bool) -> bool:
        """Whether recorded calls answer (``existed``: the cassette was there before)."""
        return self in (RecordMode.NONE, RecordMode.NEW) or (self is RecordMode.ONCE and existed)

    def records_missing(self, existed: bool) -> bool:
        """Whether a call the cassette lacks is sent and recorded rather than an error."""
        return self in (RecordMode.ALL, RecordMode.CHECK, RecordMode.NEW) or (self is RecordMode.ONCE and not existed)

    @classmethod
    def parse(cls, value: str, where: str) -> RecordMode:
        """The mode ``value`` names (ours or pytest-recording's word); ``where`` for the error."""
        try:
            value = value.strip().lower()
            return cls(RECORDING_ALIASES.get(value, value))
        except (ValueError, AttributeError):
            choices = ", ".join(m.value for m in cls)
            msg = f"{where}: unknown record mode {value!r}; choose one of: {choices}."
            raise ConfigError(msg) from None
