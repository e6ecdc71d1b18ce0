"""ReplayLLM: play a recording back as an LLM callable — zero API calls, same answers.

It is an async ``(messages) -> str`` callable, the pyagent-patterns ``LLMCallable``
protocol, so it drops into ``Agent(name, ReplayLLM...)``; it needs nothing from
pyagent-patterns. Each call is O(1): the recording is split per agent once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

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


class ReplayLLM:
    """Returns the recorded responses of one agent (or of all calls), in recorded order.

    Args:
        entries: the recording's entries (see ``ReplayLLM.from_recording``).
        agent_name: replay only this agent's calls; None replays every llm_call.
        strict: also check that each call's messages equal the recorded ones.
        source: where the entries came from, for error messages.
        rerecord_hint: how to refresh the recording, appended to errors.
    """

    def __init__(
        self,
        entries: Sequence[RecordEntry],
        agent_name: str | None = None,
        *,
        strict: bool = False,
        source: str = "<memory>",
        rerecord_hint: str = "Re-record it to capture the agent's current calls.",
    ) -> None:
        self._calls = [
            e
            for e in entries
            if e.event_type == LLM_CALL and (agent_name is None or e.agent_name == agent_name)
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
        self.strict = strict
        self.source = source
        self._hint = rerecord_hint
        self._next = 0
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
        """The next recorded entry; raises a readable error when none is left or, in strict
        mode, when ``messages`` differ from what was recorded."""
        index = self._next
        if index >= len(self._calls):
            raise self._exhausted(to_plain_messages(messages), index + 1)
        entry = self._calls[index]
        if self.strict:
            actual = to_plain_messages(messages)
            if actual != entry.messages:
                raise self._mismatch(entry, actual, index + 1)
        self._next = index + 1
        return entry

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
        msg = (
            f"{self._who()}: call #{number} differs from the recorded call #{number}:\n"
            f"{diff_messages(entry.messages, actual)}\n{self._hint}"
        )
        return ReplayMismatchError(msg)

    # -- state -----------------------------------------------------------------------------
    @property
    def calls_replayed(self) -> int:
        return self._next

    @property
    def remaining(self) -> int:
        return len(self._calls) - self._next

    @property
    def recorded_calls(self) -> list[RecordEntry]:
        return list(self._calls)

    @property
    def last_entry(self) -> RecordEntry | None:
        """The entry the latest call returned (its model, tokens and cost)."""
        return self._calls[self._next - 1] if self._next else None

    def reset(self) -> None:
        """Replay from the first call again."""
        self._next = 0

    def __repr__(self) -> str:
        return f"ReplayLLM(agent_name={self.agent_name!r}, source={self.source}, calls={len(self._calls)})"
