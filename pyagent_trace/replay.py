"""ReplayLLM: play a recording back as an LLM callable — zero API calls, same answers.

It is an async ``(messages) -> str`` callable, the pyagent-patterns ``LLMCallable``
protocol, so it drops into ``Agent(name, ReplayLLM...)``; it needs nothing from
pyagent-patterns. Each call is O(1): the recording is split per agent once.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Literal

import orjson

from pyagent_trace._messages import render_messages, to_plain_messages
from pyagent_trace._recording import LLM_CALL, RecordEntry, load_entries
from pyagent_trace._replay_index import ReplayIndex, replay_miss
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.scrub import Scrubber

__all__ = ["ReplayLLM"]


MatchMode = Literal["order", "messages"]


def messages_key(messages: list[dict[str, Any]]) -> bytes:
    """The lookup key of a call by its messages (key order and whitespace do not matter)."""
    return orjson.dumps(messages, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)


def _entry_key(entry: RecordEntry) -> bytes:
    return messages_key(entry.messages)


def _describe(entry: RecordEntry) -> list[str]:
    return render_messages(entry.messages)


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
        scrubber: how recorded calls were scrubbed (default: a ``Scrubber()``); the
            messages asked are scrubbed the same way before they are matched, so a call
            whose prompt held a key still finds its (redacted) recording.
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
        scrubber: Scrubber | None = None,
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
        self._scrubber = scrubber if scrubber is not None else Scrubber()
        self._index = ReplayIndex(self._calls, _entry_key, _describe)
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
        plain = to_plain_messages(messages)
        key = messages_key(plain)
        if self._scrubber.looks_clean(key.decode("utf-8", "replace")):
            actual = plain  # nothing the scrubber would change: its walk is skipped
        else:
            actual = self._scrubber.value(plain)[0]  # as recorded: scrubbed
            key = messages_key(actual)
        number = len(self._index.used) + 1
        if self.match == "messages":
            entry = self._index.take(key)
            if entry is None:
                raise self._miss(actual, number)
        else:
            expected = self._index.unused()[:1]
            if expected and self.strict and actual != expected[0].messages:
                raise self._miss(actual, number, differs_from=expected[0])
            entry = self._index.take_in_order()
            if entry is None:
                raise self._miss(actual, number)
        if self._on_replay is not None:
            self._on_replay(entry)
        return entry

    def _miss(self, actual: list[dict[str, Any]], number: int, differs_from: RecordEntry | None = None) -> Exception:
        agent = f"agent {self.agent_name!r}" if self.agent_name is not None else "all agents"
        lines = render_messages(actual)
        recorded = self._index.recorded_for(messages_key(actual)) if self.match == "messages" else 0
        nearest = None if differs_from or recorded or not self.remaining else self._index.nearest(lines)
        return replay_miss(
            f"ReplayLLM for {agent} (recording {self.source}): call #{number}",
            self._index,
            lines,
            hint=self._hint,
            recorded=recorded,
            nearest=nearest,
            differs_from=differs_from,
        )

    # -- state -----------------------------------------------------------------------------
    @property
    def calls_replayed(self) -> int:
        return len(self._index.used)

    @property
    def remaining(self) -> int:
        return len(self._calls) - len(self._index.used)

    @property
    def unused_calls(self) -> list[RecordEntry]:
        """Recorded calls nobody asked for (stale parts of a recording)."""
        return self._index.unused()

    @property
    def recorded_calls(self) -> list[RecordEntry]:
        return list(self._calls)

    @property
    def last_entry(self) -> RecordEntry | None:
        """The entry the latest call returned (its model, tokens and cost)."""
        used = self._index.used
        return used[-1] if used else None

    def reset(self) -> None:
        """Replay from the first call again."""
        self._index.reset()

    def __repr__(self) -> str:
        return f"ReplayLLM(agent_name={self.agent_name!r}, source={self.source}, calls={len(self._calls)})"
