"""Cassettes: record LLM calls once, replay them with zero API calls (see ``Cassette``)."""

from pyagent_trace.cassette._cassette import Cassette
from pyagent_trace.cassette._llm import CassetteLLM
from pyagent_trace.record_mode import MatchMode, RecordMode

__all__ = ["Cassette", "CassetteLLM", "MatchMode", "RecordMode"]
