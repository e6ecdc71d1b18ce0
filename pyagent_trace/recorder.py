"""Recorder: write every LLM call of a run to JSONL; load it back for replay and review.

The file format lives in ``_recording``; ``ReplayLLM`` (in ``replay``) plays a file back.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyagent_trace._messages import to_plain_messages
from pyagent_trace._recording import (
    FORMAT_VERSION,
    HEADER_EVENT,
    LLM_CALL,
    RecordEntry,
    load_entries,
    save_entries,
)
from pyagent_trace._schema import validate_ms, validate_tokens, validate_usd
from pyagent_trace._tokens import count_tokens
from pyagent_trace.events import TraceEvent
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.replay import ReplayLLM
from pyagent_trace.scrub import Scrubber

if TYPE_CHECKING:
    from pyagent_trace.pricing import PriceSpec, PriceTable

__all__ = [
    "FORMAT_VERSION",
    "HEADER_EVENT",
    "RecordEntry",
    "Recorder",
    "ReplayLLM",
    "load_entries",
    "save_entries",
]


class Recorder:
    """Collect a run's events in memory; ``save`` writes them as one JSONL recording.

    Thread-safe. Also a bus subscriber: ``bus.subscribe(recorder.export_event)`` keeps
    agent_start/agent_end events beside the LLM calls. Every entry goes through one
    scrubber as it is recorded (a key in a prompt never reaches the file), and again at
    ``save`` if a secret value was learnt after it.
    """

    def __init__(self, *, prices: PriceTable | Mapping[str, PriceSpec] | None = None) -> None:
        """``prices``: a ``PriceTable`` or overrides of the default prices, for calls
        recorded without a cost (see :func:`pyagent_trace.pricing.price_table`)."""
        self._prices = prices
        self._entries: list[RecordEntry] = []
        self._lock = threading.Lock()
        self._scrubber = Scrubber()
        self._first_generation: int | None = None
        self._pattern = ""
        self._started_at: float | None = None

    def _append(self, entry: RecordEntry) -> RecordEntry:
        with self._lock:
            entry = self._scrubber.entry(entry)[0]
            if self._first_generation is None:
                self._first_generation = self._scrubber.generation
            self._entries.append(entry)
        return entry

    def start(self, pattern_name: str = "", **metadata: Any) -> RecordEntry:
        """Mark the start of a pattern run."""
        self._pattern = pattern_name
        self._started_at = time.perf_counter()
        return self._append(
            RecordEntry("pattern_start", pattern_type=pattern_name, timestamp=time.time(), metadata=metadata)
        )

    def record_llm_call(
        self,
        agent_name: str,
        messages: Any,
        response: str,
        model: str = "",
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
        *,
        duration_ms: float = 0.0,
        timestamp: float | None = None,
        pattern_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RecordEntry:
        """Record one call. Missing token counts are estimated from the text (and the
        entry says so); a missing cost comes from the price table."""
        if not isinstance(response, str):
            msg = f"record_llm_call(response=…) must be a str, got {type(response).__name__}."
            raise ConfigError(msg)
        plain = to_plain_messages(messages)
        estimated = input_tokens is None or output_tokens is None
        if input_tokens is None:
            input_tokens = sum(count_tokens(str(m.get("content", ""))) for m in plain)
        if output_tokens is None:
            output_tokens = count_tokens(response)
        try:  # refused here, before anything is kept or written
            input_tokens = validate_tokens("input_tokens", input_tokens)
            output_tokens = validate_tokens("output_tokens", output_tokens)
            if cost_usd is not None:
                cost_usd = validate_usd("cost_usd", cost_usd)
            duration_ms = validate_ms("duration_ms", duration_ms)
            if timestamp is not None:
                timestamp = validate_ms("timestamp", timestamp)
        except (TypeError, ConfigError) as err:  # one error type, naming the call and the argument
            raise ConfigError(f"record_llm_call: {err}") from None
        for name, value in (("agent_name", agent_name), ("model", model)):
            if not isinstance(value, str):
                msg = f"record_llm_call({name}={value!r}) must be a str, got {type(value).__name__}."
                raise ConfigError(msg)
        priced = True
        if cost_usd is None:
            from pyagent_trace.pricing import price_table

            computed = price_table(self._prices).cost(model, input_tokens, output_tokens)
            priced = computed is not None
            cost_usd = computed or 0.0
        return self._append(
            RecordEntry(
                LLM_CALL,
                agent_name=agent_name,
                pattern_type=self._pattern if pattern_type is None else pattern_type,
                model=model,
                timestamp=time.time() if timestamp is None else timestamp,
                duration_ms=duration_ms,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                tokens=input_tokens + output_tokens,
                cost_usd=cost_usd,
                tokens_estimated=estimated,
                priced=priced,
                messages=plain,
                response=response,
                metadata=dict(metadata or {}),
            )
        )

    def end(self, final_output: str = "", **metadata: Any) -> RecordEntry:
        """Mark the end of the pattern run; ``duration_ms`` counts from ``start``.

        The run's totals go in ``metadata`` (``total_tokens``, ``total_cost_usd``), never in
        the entry's ``tokens`` / ``cost_usd``: readers that add those up over every line
        (pyagent-studio's summary does) would count each call twice.
        """
        elapsed = 0.0 if self._started_at is None else (time.perf_counter() - self._started_at) * 1000
        totals = {"total_tokens": self.total_tokens, "total_cost_usd": self.total_cost}
        return self._append(
            RecordEntry(
                "pattern_end",
                pattern_type=self._pattern,
                timestamp=time.time(),
                duration_ms=elapsed,
                response=final_output,
                metadata={**totals, **metadata},
            )
        )

    def export_event(self, event: TraceEvent) -> None:
        """Keep a bus event (agent_start, agent_end, …) as an entry."""
        payload = dict(event.payload)
        duration_ms = payload.get("duration_ms")
        if duration_ms is None and "duration_seconds" in payload:
            duration_ms = payload["duration_seconds"] * 1000
        self._append(
            RecordEntry(
                event.event_type,
                agent_name=event.agent_name,
                pattern_type=event.pattern_type,
                timestamp=event.timestamp,
                duration_ms=float(duration_ms or 0.0),
                metadata=payload,
            )
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write all entries to ``path`` atomically (parent folders created)."""
        with self._lock:
            if self._first_generation is not None and self._scrubber.generation != self._first_generation:
                self._entries = [self._scrubber.entry(e)[0] for e in self._entries]  # values learnt late
                self._first_generation = self._scrubber.generation
        return save_entries(path, self.entries)

    @staticmethod
    def load(path: str | os.PathLike[str]) -> list[RecordEntry]:
        """Entries of a recording file, in order. Bad lines raise BadRecordingError(file:line)."""
        return load_entries(path)

    @property
    def entries(self) -> list[RecordEntry]:
        with self._lock:
            return list(self._entries)

    @property
    def llm_calls(self) -> list[RecordEntry]:
        return [e for e in self.entries if e.event_type == LLM_CALL]

    @property
    def total_cost(self) -> float:
        return round(sum(e.cost_usd for e in self.llm_calls), 12)

    @property
    def total_tokens(self) -> int:
        return sum(e.tokens for e in self.llm_calls)

    def __len__(self) -> int:
        return len(self._entries)
