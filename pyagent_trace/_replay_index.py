"""The one replay core: which recorded call answers a new one, and what to say when none does.

LLM-level calls (``ReplayLLM``, ``cassette.llm``) and HTTP interactions (``HttpCassette``)
are looked up the same way. Each recorded entry is reduced once to a key (the messages,
or method + path + query + body) and queued under it: a lookup is a dict access, O(1)
whatever the recording's size, and identical calls get their answers in recorded order.
Only a miss pays for more: the nearest recorded call (difflib over a readable rendering)
and a ``- recorded / + actual`` diff, in one message format for both kinds.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import difflib
import threading
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from pyagent_trace._recording import RecordEntry
from pyagent_trace.exceptions import ReplayExhaustedError, ReplayMismatchError

__all__ = ["ReplayIndex", "excerpt", "render_diff", "replay_miss"]

K = TypeVar("K", bound=Hashable)
_NEAREST_SHORTLIST = 50


class ReplayIndex(Generic[K]):
    """Recorded entries by key, each key a FIFO queue; built once. Thread-safe.

    ``key`` reduces an entry to its lookup key, ``describe`` renders it as lines (for the
    nearest-match search and for diffs).
    """

    def __init__(
        self,
        entries: Sequence[RecordEntry],
        key: Callable[[RecordEntry], K],
        describe: Callable[[RecordEntry], list[str]],
    ) -> None:
        self.entries = list(entries)
        self._key = key
        self.describe = describe
        self._lock = threading.Lock()
        self._number = {id(e): n for n, e in enumerate(self.entries, start=1)}
        self._queues: dict[K, deque[RecordEntry]] = {}
        self.used: list[RecordEntry] = []
        self.reset()

    def reset(self) -> None:
        """Every recorded entry unused again."""
        with self._lock:
            self.used = []
            self._queues = {}
            for entry in self.entries:
                self._queues.setdefault(self._key(entry), deque()).append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def take(self, key: K) -> RecordEntry | None:
        """The next unused entry recorded under ``key``, or None."""
        with self._lock:
            queue = self._queues.get(key)
            if not queue:
                return None
            entry = queue.popleft()
            self.used.append(entry)
            return entry

    def take_in_order(self) -> RecordEntry | None:
        """The next entry in recorded order, whatever its key (replay by order)."""
        with self._lock:
            position = len(self.used)
            if position >= len(self.entries):
                return None
            entry = self.entries[position]
            self._queues[self._key(entry)].remove(entry)
            self.used.append(entry)
            return entry

    def recorded_for(self, key: K) -> int:
        """How many entries were recorded under ``key``, used or not."""
        with self._lock:
            return sum(1 for e in self.used if self._key(e) == key) + len(self._queues.get(key, ()))

    def number(self, entry: RecordEntry) -> int:
        """1-based position of ``entry`` in the recording."""
        return self._number[id(entry)]

    def unused(self) -> list[RecordEntry]:
        used = {id(e) for e in self.used}
        return [e for e in self.entries if id(e) not in used]

    def nearest(self, actual: list[str], prefer: Callable[[RecordEntry], bool] | None = None) -> RecordEntry | None:
        """The recorded entry that reads most like ``actual`` (unused ones first, then those
        ``prefer`` picks); only called to explain a miss, so it may be slow."""
        pool = self.unused() or self.entries
        if prefer is not None:
            pool = [e for e in pool if prefer(e)] or pool
        if not pool:
            return None
        target = "\n".join(actual)
        scored = [(difflib.SequenceMatcher(None, "\n".join(self.describe(e)), target), e) for e in pool]
        if len(scored) > _NEAREST_SHORTLIST:  # cheap upper bounds first, the real ratio on the best few
            scored = sorted(scored, key=lambda pair: -pair[0].quick_ratio())[:_NEAREST_SHORTLIST]
        return max(scored, key=lambda pair: pair[0].ratio())[1]


def excerpt(lines: Sequence[str], limit: int = 12) -> str:
    """The first ``limit`` lines, indented and cut, for an error message."""
    shown = [f"    {line[:200]}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"    ... ({len(lines) - limit} more lines)")
    return "\n".join(shown)


def render_diff(recorded: Sequence[str], actual: Sequence[str], *, max_lines: int = 60) -> str:
    """A ``- recorded / + actual`` unified diff, long lines and long diffs cut."""
    diff = list(difflib.unified_diff(list(recorded), list(actual), "recorded", "actual", lineterm="", n=2))
    diff = [line if len(line) <= 240 else f"{line[:240]}…" for line in diff]
    if len(diff) > max_lines:
        diff = [*diff[:max_lines], f"... ({len(diff) - max_lines} more diff lines)"]
    return "\n".join(diff)


def replay_miss(
    who: str,
    index: ReplayIndex[K],
    actual: list[str],
    *,
    hint: str,
    noun: str = "call",
    recorded: int = 0,
    nearest: RecordEntry | None = None,
    differs_from: RecordEntry | None = None,
) -> ReplayMismatchError:
    """The error for a call the recording cannot answer, in one format for every kind.

    ``who`` names the call ("ReplayLLM for agent 'writer' (recording x.jsonl): call #3");
    ``noun`` names what the recording holds ("call", "interaction"); ``recorded`` is how
    many times this very call was recorded (all used up when > 0); ``nearest`` is the
    recorded one to diff against; ``differs_from`` is the recorded one this call was
    expected to be (replay by order).
    """
    asked = f"The {noun} asked:\n{excerpt(actual)}\n{hint}"
    if differs_from is not None:
        what = f"differs from the recorded {noun} #{index.number(differs_from)}"
        return ReplayMismatchError(f"{who} {what}:\n{render_diff(index.describe(differs_from), actual)}\n{hint}")
    if recorded:
        what = f"has no recorded response left: it was recorded {recorded} time(s) and all were replayed already"
        return ReplayExhaustedError(f"{who} {what}.\n{asked}")
    if nearest is None:
        return ReplayExhaustedError(
            f"{who} has no recorded response; the recording holds {len(index)} {noun}(s).\n{asked}"
        )
    what = f"matches no recorded {noun}; nearest is recorded {noun} #{index.number(nearest)}"
    return ReplayMismatchError(f"{who} {what}:\n{render_diff(index.describe(nearest), actual)}\n{hint}")
