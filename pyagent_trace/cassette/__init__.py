"""Cassettes: record LLM calls once, replay them with zero API calls (see ``Cassette``).

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from pyagent_trace.cassette._cassette import Cassette
from pyagent_trace.cassette._llm import CassetteLLM
from pyagent_trace.record_mode import MatchMode, RecordMode

__all__ = ["Cassette", "CassetteLLM", "MatchMode", "RecordMode"]
