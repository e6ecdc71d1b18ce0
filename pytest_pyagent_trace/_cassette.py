"""A test's cassette: replays recorded LLM calls, records new ones, writes the file once.

Pure of pytest: the plugin creates one per test and calls ``finish``. Replay is a
``ReplayLLM`` per agent over the cassette; recording wraps the real callable.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pyagent_trace._messages import to_plain_messages
from pyagent_trace._recording import LLM_CALL, RecordEntry
from pyagent_trace._tokens import count_tokens
from pyagent_trace.cost import CostTracker
from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.exceptions import (
    CassetteMissingError,
    ConfigError,
    PyAgentTraceError,
    PyAgentTraceWarning,
    ReplayExhaustedError,
)
from pyagent_trace.replay import MatchMode, ReplayLLM
from pytest_pyagent_trace._cassette_file import write_cassette
from pytest_pyagent_trace._cassette_llm import CassetteLLM, Reply
from pytest_pyagent_trace._settings import RecordMode

__all__ = ["Cassette", "CassetteLLM"]


def _own_part(entries: list[RecordEntry], recorded_by: str | None) -> list[RecordEntry]:
    """What one test replays: a whole cassette, or in a shared one the calls that test
    recorded plus calls recorded by no test in particular (written by hand)."""
    if recorded_by is None:
        return entries
    return [e for e in entries if e.metadata.get("recorded_by", recorded_by) == recorded_by]


class Cassette:
    """One test's cassette. ``mode`` says whether it replays, records, or both."""

    def __init__(
        self,
        path: Path,
        mode: RecordMode,
        *,
        match: MatchMode = "messages",
        tracker: CostTracker,
        bus: TraceEventBus,
        record_command: str,
        rerecord_command: str,
        recorded_by: str | None = None,
        baseline: list[RecordEntry] | None = None,
    ) -> None:
        self.path = path
        self.mode = mode
        self.match = match
        self.tracker = tracker
        self.bus = bus
        self.record_command = record_command
        self.rerecord_command = rerecord_command
        self.recorded_by = recorded_by
        self.file_exists = baseline is not None
        self._previous = baseline or []
        """The file as the test found it before its first attempt (``baseline``; None: absent)."""
        self._loaded: list[RecordEntry] = []
        if baseline is not None and mode is not RecordMode.ALL:
            self._loaded = _own_part(baseline, recorded_by)
        self.existed = self.file_exists if recorded_by is None else bool(self._loaded)
        """Whether there is something to replay: the file, or this test's part of a shared one."""
        self.recorded: list[RecordEntry] = []
        self._replays: dict[str, ReplayLLM | None] = {}
        self._llms: dict[tuple[str, int], CassetteLLM] = {}
        self.written = False
        self.http: Any = None
        """The test's ``pyagent_trace.http.HttpCassette`` while its body runs (SDK calls)."""
        self.errors: list[PyAgentTraceError] = []
        """Errors raised to the code under test (replay, missing cassette), even those it caught."""

    # -- what the mode means --------------------------------------------------------------
    @property
    def replaying(self) -> bool:
        return self.mode in (RecordMode.NONE, RecordMode.NEW) or (self.mode is RecordMode.ONCE and self.existed)

    @property
    def recording(self) -> bool:
        return self.mode in (RecordMode.ALL, RecordMode.NEW) or (self.mode is RecordMode.ONCE and not self.existed)

    @property
    def records_missing(self) -> bool:
        return self.mode is RecordMode.NEW

    @property
    def display_path(self) -> str:
        """The path relative to the working directory when it is below it (for reports)."""
        try:
            return str(self.path.resolve().relative_to(Path.cwd()))
        except (ValueError, OSError, RuntimeError):  # elsewhere, or a path that cannot resolve
            return str(self.path)

    @property
    def missing(self) -> bool:
        return self.mode is RecordMode.NONE and not self.existed

    def __repr__(self) -> str:
        return f"<Cassette {self.display_path} mode={self.mode.value}>"

    # -- fixture API ----------------------------------------------------------------------
    def llm(self, real_llm: Any = None, *, agent_name: str, model: str | None = None) -> CassetteLLM:
        """An LLM callable for ``agent_name``: replays the cassette or records ``real_llm``."""
        try:
            return self._llm(real_llm, agent_name, model)
        except PyAgentTraceError as err:
            self.errors.append(err)
            raise

    def _llm(self, real_llm: Any, agent_name: str, model: str | None) -> CassetteLLM:
        if not isinstance(agent_name, str) or not agent_name:
            msg = f"cassette.llm(agent_name={agent_name!r}): give each agent a non-empty name."
            raise ConfigError(msg)
        if self.missing:
            what = (
                f"Cassette {self.path} does not exist"
                if not self.file_exists
                else f"Shared cassette {self.path} holds no calls recorded by {self.recorded_by}"
            )
            msg = f"{what}, and record mode 'none' only replays.\nRecord it with: {self.record_command}"
            raise CassetteMissingError(msg)
        key = (agent_name, id(real_llm))
        if key not in self._llms:
            self._llms[key] = CassetteLLM(self, agent_name, real_llm, model)
        return self._llms[key]

    @property
    def entries(self) -> list[RecordEntry]:
        """What the cassette holds now: loaded calls plus those recorded in this test."""
        return [*self._loaded, *self.recorded]

    @property
    def loaded(self) -> list[RecordEntry]:
        """The entries this test replays from (its own part of a shared cassette)."""
        return self._loaded

    @property
    def calls_replayed(self) -> int:
        http = self.http.calls_replayed if self.http is not None else 0
        return http + sum(r.calls_replayed for r in self._replays.values() if r is not None)

    @property
    def calls_recorded(self) -> int:
        return len(self.recorded)

    def unused_calls(self) -> list[RecordEntry]:
        """Recorded calls that no agent of this test asked for (in a shared cassette, only
        the calls this test recorded count)."""
        if not self.replaying:
            return []
        used = {id(e) for r in self._replays.values() if r is not None for e in r.recorded_calls}
        unused = [e for r in self._replays.values() if r is not None for e in r.unused_calls]
        unused += [e for e in self._loaded if e.event_type == LLM_CALL and id(e) not in used]
        if self.http is not None:
            unused += self.http.unused()
        if self.recorded_by is None:
            return unused
        return [e for e in unused if e.metadata.get("recorded_by") == self.recorded_by]

    # -- internals used by CassetteLLM ----------------------------------------------------
    def recorded_model(self, agent_name: str) -> str | None:
        return next((e.model for e in self._loaded if e.agent_name == agent_name and e.model), None)

    def replay_for(self, agent_name: str) -> ReplayLLM | None:
        if not self.replaying:
            return None
        if agent_name not in self._replays:
            has_calls = any(e.event_type == LLM_CALL and e.agent_name == agent_name for e in self._loaded)
            self._replays[agent_name] = (
                ReplayLLM(
                    self._loaded,
                    agent_name,
                    match=self.match,
                    source=str(self.path),
                    rerecord_hint=f"Re-record the cassette with: {self.rerecord_command}",
                    on_replay=self._replayed,
                )
                if has_calls
                else None
            )
        return self._replays[agent_name]

    def no_calls_for(self, agent_name: str, messages: Any) -> ReplayExhaustedError:
        recorded = sorted({e.agent_name for e in self._loaded if e.event_type == LLM_CALL})
        asked = to_plain_messages(messages)
        last = asked[-1]["content"] if asked else ""
        msg = (
            f"Cassette {self.path} has no calls for agent {agent_name!r} (agents recorded: "
            f"{', '.join(map(repr, recorded)) or 'none'}). The call asked: {str(last)[:200]!r}\n"
            f"Re-record the cassette with: {self.rerecord_command}"
        )
        return ReplayExhaustedError(msg)

    def add_recorded(
        self,
        agent: str,
        model: str,
        messages: Any,
        reply: Reply,
        duration_ms: float,
        http_calls: list[RecordEntry] | None = None,
    ) -> None:
        """One recorded call. ``http_calls`` are the provider calls the callable made (see
        ``INSIDE_LLM``): their reported usage, provider and cost are the call's own."""
        plain = to_plain_messages(messages)
        calls = [e for e in http_calls or () if not e.tokens_estimated]
        metadata: dict[str, Any] = {"recorded_by": self.recorded_by} if self.recorded_by else {}
        if calls:
            input_tokens = sum(e.input_tokens for e in calls)
            output_tokens = sum(e.output_tokens for e in calls)
            model = calls[-1].model or model
            priced = all(e.priced for e in calls)
            cost: float | None = sum(e.cost_usd for e in calls) if priced else None
            estimated = False
            metadata |= {
                "provider": calls[-1].metadata.get("provider", ""),
                "cache_read_tokens": sum(int(e.metadata.get("cache_read_tokens") or 0) for e in calls),
                "cache_write_tokens": sum(int(e.metadata.get("cache_write_tokens") or 0) for e in calls),
            }
        else:
            estimated = reply.input_tokens is None or reply.output_tokens is None
            input_tokens = (
                reply.input_tokens
                if reply.input_tokens is not None
                else sum(count_tokens(str(m.get("content", ""))) for m in plain)
            )
            output_tokens = reply.output_tokens if reply.output_tokens is not None else count_tokens(reply.text)
            cost = self.tracker.prices.cost(model, input_tokens, output_tokens)
        entry = RecordEntry(
            LLM_CALL,
            agent_name=agent,
            model=model,
            timestamp=time.time(),
            duration_ms=round(duration_ms, 3),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            tokens=input_tokens + output_tokens,
            cost_usd=round(cost or 0.0, 12),
            tokens_estimated=estimated,
            priced=cost is not None,
            messages=plain,
            response=reply.text,
            metadata=metadata,
        )
        self.recorded.append(entry)
        self.account(entry, replayed=False)

    def _replayed(self, entry: RecordEntry) -> None:
        self.account(entry, replayed=True)

    def account(self, entry: RecordEntry, *, replayed: bool) -> None:
        """Every call, LLM-level or HTTP, replayed or recorded, reaches the cost tracker
        (with its cache tokens) and, when anyone listens, the bus as an ``llm_call``."""
        meta = entry.metadata
        try:
            self.tracker.record(
                pattern=entry.pattern_type,
                agent=entry.agent_name,
                model=entry.model or "unknown",
                input_tokens=entry.input_tokens,
                output_tokens=entry.output_tokens,
                cost_usd=entry.cost_usd if entry.priced else None,
                cache_read_tokens=int(meta.get("cache_read_tokens") or 0),
                cache_write_tokens=int(meta.get("cache_write_tokens") or 0),
                tokens_estimated=entry.tokens_estimated,
            )
        except PyAgentTraceWarning as warning:  # an unpriced model under -W error: say how to price it here
            msg = f"{warning} In pytest, override the pyagent_trace_prices fixture to add it."
            raise ConfigError(msg) from None
        if not self.bus.subscriber_count:  # the hot path of replay: no event nobody reads
            return
        payload = {
            "model": entry.model,
            "input_tokens": entry.input_tokens,
            "output_tokens": entry.output_tokens,
            "cost_usd": entry.cost_usd,
            "replayed": replayed,
        }
        if meta.get("provider"):
            payload["provider"] = meta["provider"]
        self.bus.emit(TraceEvent(time.time(), "llm_call", entry.agent_name, entry.pattern_type, payload))

    # -- end of test ----------------------------------------------------------------------
    def finish(self) -> bool:
        """Write the cassette once, if this test recorded anything; returns whether it wrote."""
        if not self.recorded or self.written:
            return False
        keep_existing = self.mode is RecordMode.NEW
        write_cassette(
            self.path, self.recorded, keep_existing=keep_existing, recorded_by=self.recorded_by, previous=self._previous
        )
        self.written = True
        return True
