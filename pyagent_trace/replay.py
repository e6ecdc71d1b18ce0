"""ReplayLLM: play a recording back as an LLM callable — zero API calls, same answers.

It is an async ``(messages) -> str`` callable, the pyagent-patterns ``LLMCallable``
protocol, so it drops into ``Agent(name, ReplayLLM...)``; it needs nothing from
pyagent-patterns. Each call is O(1): the recording is split per agent once.
"""

from __future__ import annotations

import difflib
import os
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Literal

import orjson

from pyagent_trace._messages import diff_messages, render_messages, to_plain_messages
from pyagent_trace._recording import LLM_CALL, RecordEntry, load_entries
from pyagent_trace.exceptions import ConfigError, ReplayExhaustedError, ReplayMismatchError

__all__ = ["ReplayLLM"]


def _excerpt(messages: list[dict[str, Any]], limit: int = 12) -> str:
    lines = render_messages(messages)
    shown = [f"    {line[:200]}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"    ... ({len(lines) - limit} more lines)")
    return "\n".join(shown)


MatchMode = Literal["order", "messages"]


def _key(messages: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(messages, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)


class ReplayLLM:
    """Returns the recorded responses of one agent (or of all calls).

    Args:
        entries: the recording's entries (see ``ReplayLLM.from_recording``).
        agent_name: replay only this agent's calls; None replays every llm_call.
        strict: with ``match="order"``, also check each call's messages.
        match: ``"order"`` replays in recorded order whatever is asked;
            ``"messages"`` looks each call up by its messages (an index, O(1) per
            call), identical repeated requests getting their answers in recorded order.
        source: where the entries came from, for error messages.
        rerecord_hint: how to refresh the recording, appended to errors.
        on_replay: called with each entry handed out (cost tracking, events).
    """

    def __init__(
        self,
        entries: Sequence[RecordEntry],
        agent_name: str | None = None,
        *,
        strict: bool = False,
        match: MatchMode = "order",
        source: str = "<memory>",
        rerecord_hint: str = "Re-record it to capture the agent's current calls.",
        on_replay: Callable[[RecordEntry], None] | None = None,
    ) -> None:
        self._calls = [
            e for e in entries if e.event_type == LLM_CALL and (agent_name is None or e.agent_name == agent_name)
        ]
        if agent_name is not None and not self._calls:
            recorded = sorted({e.agent_name for e in entries if e.event_type == LLM_CALL})
            msg = (
                f"Recording {source} has no llm_call for agent {agent_name!r}; "
                f"agents recorded: {', '.join(map(repr, recorded)) or 'none'}. "
                "Check the agent_name, or record this agent first."
            )
            raise ConfigError(msg)
        self.agent_name = agent_name
        if match not in ("order", "messages"):
            msg = f"ReplayLLM(match={match!r}): use 'order' or 'messages'."
            raise ConfigError(msg)
        self.strict = strict
        self.match = match
        self.source = source
        self._hint = rerecord_hint
        self._on_replay = on_replay
        self._next = 0
        self._used: list[RecordEntry] = []
        self._index: dict[bytes, deque[RecordEntry]] = {}
        self._build_index()
        self._model = self._calls[0].model if self._calls else "unknown"

    @classmethod
    def from_recording(
        cls, path: str | os.PathLike[str], agent_name: str | None = None, *, strict: bool = False
    ) -> ReplayLLM:
        """Replay the calls of ``agent_name`` (or all calls) from a JSONL recording."""
        return cls(load_entries(path), agent_name, strict=strict, source=repr(str(path)))

    # -- the LLMCallable protocol ----------------------------------------------------------
    async def __call__(self, messages: Any) -> str:
        return self.replay(messages).response

    async def complete(self, messages: Any, model: str | None = None) -> str:
        """pyagent-providers ``ProviderProtocol.complete``; ``model`` is ignored."""
        return self.replay(messages).response

    # -- the replay core (sync, so the pytest plugin can share it) -------------------------
    def replay(self, messages: Any) -> RecordEntry:
        """The recorded entry for this call; raises a readable error when there is none
        (recording exhausted, or messages that were never recorded)."""
        entry = self._match_messages(messages) if self.match == "messages" else self._match_order(messages)
        self._next += 1
        self._used.append(entry)
        if self._on_replay is not None:
            self._on_replay(entry)
        return entry

    def _match_order(self, messages: Any) -> RecordEntry:
        index = self._next
        if index >= len(self._calls):
            raise self._exhausted(to_plain_messages(messages), index + 1)
        entry = self._calls[index]
        if self.strict:
            actual = to_plain_messages(messages)
            if actual != entry.messages:
                raise self._mismatch(entry, actual, index + 1)
        return entry

    def _match_messages(self, messages: Any) -> RecordEntry:
        actual = to_plain_messages(messages)
        queue = self._index.get(_key(actual))
        if queue:
            return queue.popleft()
        if self.remaining == 0 or not self._calls:
            raise self._exhausted(actual, self._next + 1)
        raise self._mismatch(self._nearest(actual), actual, self._next + 1)

    def _nearest(self, actual: list[dict[str, Any]]) -> RecordEntry:
        """The unused recorded call whose messages read most like ``actual``."""
        candidates = [e for q in self._index.values() for e in q] or self._calls
        target = "\n".join(render_messages(actual))
        return max(
            candidates,
            key=lambda e: difflib.SequenceMatcher(None, "\n".join(render_messages(e.messages)), target).ratio(),
        )

    def _who(self) -> str:
        agent = f"agent {self.agent_name!r}" if self.agent_name is not None else "all agents"
        return f"ReplayLLM for {agent} (recording {self.source})"

    def _exhausted(self, actual: list[dict[str, Any]], number: int) -> ReplayExhaustedError:
        msg = (
            f"{self._who()}: call #{number} has no recorded response; the recording holds "
            f"{len(self._calls)} call(s).\nThe call asked:\n{_excerpt(actual)}\n{self._hint}"
        )
        return ReplayExhaustedError(msg)

    def _mismatch(self, entry: RecordEntry, actual: list[dict[str, Any]], number: int) -> ReplayMismatchError:
        recorded = next(i for i, e in enumerate(self._calls, start=1) if e is entry)
        what = (
            f"call #{number} differs from the recorded call #{recorded}"
            if self.match == "order"
            else f"call #{number} matches no recorded call; nearest is recorded call #{recorded}"
        )
        msg = f"{self._who()}: {what}:\n{diff_messages(entry.messages, actual)}\n{self._hint}"
        return ReplayMismatchError(msg)

    # -- state -----------------------------------------------------------------------------
    @property
    def calls_replayed(self) -> int:
        return self._next

    @property
    def remaining(self) -> int:
        return len(self._calls) - len(self._used)

    @property
    def unused_calls(self) -> list[RecordEntry]:
        """Recorded calls nobody asked for (stale parts of a recording)."""
        used = {id(e) for e in self._used}
        return [e for e in self._calls if id(e) not in used]

    @property
    def recorded_calls(self) -> list[RecordEntry]:
        return list(self._calls)

    @property
    def last_entry(self) -> RecordEntry | None:
        """The entry the latest call returned (its model, tokens and cost)."""
        return self._used[-1] if self._used else None

    def reset(self) -> None:
        """Replay from the first call again."""
        self._next = 0
        self._used.clear()
        self._build_index()

    def _build_index(self) -> None:
        self._index.clear()
        if self.match == "messages":
            for entry in self._calls:
                self._index.setdefault(_key(entry.messages), deque()).append(entry)

    def __repr__(self) -> str:
        return f"ReplayLLM(agent_name={self.agent_name!r}, source={self.source}, calls={len(self._calls)})"
