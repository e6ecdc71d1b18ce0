"""Cassette: one file of recorded calls, replayed, recorded, costed and traced.

Usable without pytest (the plugin is a thin layer over it)::

    with Cassette("tests/cassettes/plan.jsonl", mode="once") as cassette:
        writer = cassette.llm(OpenAIProvider(), agent_name="writer")  # LLM-level calls
        client.chat.completions.create(...)  # provider SDK calls, at the HTTP level

While open, every HTTP request of the provider SDKs (httpx, httpx2, requests, aiohttp)
is answered from the cassette or sent and recorded; ``llm()`` callables replay or record
LLM-level calls. Each call reaches the cost tracker, the bus and the spans once. On exit
the file is written once, atomically, if anything was recorded, and a replay miss the
code under test swallowed is raised.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pyagent_trace._messages import to_plain_messages
from pyagent_trace._recording import LLM_CALL, RecordEntry
from pyagent_trace.cassette._file import own_part, read_cassette, write_cassette
from pyagent_trace.cassette._llm import INSIDE_LLM, CassetteLLM, Reply, recorded_call
from pyagent_trace.cost import CostTracker
from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.exceptions import (
    CassetteMissingError,
    ConfigError,
    PyAgentTraceError,
    PyAgentTraceWarning,
    ReplayExhaustedError,
)
from pyagent_trace.record_mode import MatchMode, RecordMode
from pyagent_trace.replay import ReplayLLM
from pyagent_trace.scrub import Scrubber, ScrubConfig

if TYPE_CHECKING:
    from pyagent_trace.http import HttpCassette

__all__ = ["Cassette", "CassetteLLM"]

_HTTP = "http_interaction"
_UNREAD: Any = object()


_SPAN_DETAILS = ("cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "response_id", "finish_reasons")


class Cassette:
    """A cassette file; ``mode`` says whether it replays, records, or both.

    Args:
        path: the ``.jsonl`` file (absent until something is recorded).
        mode: ``"none"`` replays only, ``"once"`` records a cassette that does not exist,
            ``"new"`` records the calls it lacks, ``"all"`` re-records everything,
            ``"check"`` calls everything live like ``"all"`` but never writes the file
            (compare ``before`` and ``after`` with :mod:`pyagent_trace.drift`).
        match: how LLM-level calls are found: ``"messages"`` (by agent and messages) or
            ``"order"`` (by agent, in recorded order).
        tracker, bus: where every call is accounted (a fresh ``CostTracker`` and bus by default).
        record_command, rerecord_command: how to record, quoted in error messages.
        recorded_by: in a cassette several tests share, the id of the one this is for.
        baseline: the file's entries as read before (None: no file); read from ``path``
            when not given. A retried test passes the first attempt's baseline.
        scrub: extra secret filters; every entry, LLM-level or HTTP, is scrubbed before it
            is kept, and again at write time with every secret value learnt meanwhile.
        ignore_hosts: hosts never recorded (HTTP level).
    """

    def __init__(
        self,
        path: str | Path,
        mode: RecordMode | str = RecordMode.NONE,
        *,
        match: MatchMode = "messages",
        tracker: CostTracker | None = None,
        bus: TraceEventBus | None = None,
        record_command: str = "Cassette(path, mode='once')",
        rerecord_command: str = "Cassette(path, mode='all')",
        recorded_by: str | None = None,
        baseline: list[RecordEntry] | None = _UNREAD,
        scrub: ScrubConfig | None = None,
        ignore_hosts: Iterable[str] = (),
    ) -> None:
        path = Path(path)
        mode = RecordMode.parse(str(mode), "Cassette(mode=…)")
        if match not in ("messages", "order"):
            msg = f"Cassette(match={match!r}): use 'messages' or 'order'."
            raise ConfigError(msg)
        if baseline is _UNREAD:
            baseline = read_cassette(path, rerecording=mode is RecordMode.ALL)
        self.path = path
        self.mode = mode
        self.match = match
        self.bus = bus if bus is not None else TraceEventBus()
        self.tracker = tracker if tracker is not None else CostTracker(event_bus=self.bus)
        self.record_command = record_command
        self.rerecord_command = rerecord_command
        self.recorded_by = recorded_by
        self.scrubber = Scrubber(scrub)
        """The cassette's one scrubber: what it learns from one entry is redacted in all."""
        self._scanned_at: dict[int, int] = {}  # id(entry) -> scrubber generation when scanned
        self._ignore_hosts = tuple(ignore_hosts)
        self.file_exists = baseline is not None
        self._previous = baseline or []
        """The file as the test found it before its first attempt (``baseline``; None: absent)."""
        self._loaded: list[RecordEntry] = []
        if baseline is not None and not mode.rerecords:
            self._loaded = own_part(baseline, recorded_by)
        self.existed = self.file_exists if recorded_by is None else bool(self._loaded)
        """Whether there is something to replay: the file, or this test's part of a shared one."""
        self.recorded: list[RecordEntry] = []
        self._replays: dict[str, ReplayLLM | None] = {}
        self._llms: dict[tuple[str, int], CassetteLLM] = {}
        self.written = False
        self._http_done: tuple[int, list[RecordEntry]] = (0, [])
        self.http: HttpCassette | None = None
        """The HTTP capture of the provider SDKs while the cassette is open."""
        self.errors: list[PyAgentTraceError] = []
        """Errors raised to the code under test (replay, missing cassette), even those it caught."""

    # -- what the mode means --------------------------------------------------------------
    @property
    def replaying(self) -> bool:
        return self.mode.replays(self.existed)

    @property
    def recording(self) -> bool:
        return self.mode.records_missing(self.existed)

    @property
    def records_missing(self) -> bool:
        return self.mode is RecordMode.NEW

    @functools.cached_property
    def display_path(self) -> str:
        """The path relative to the working directory when it is below it (for reports).
        Computed once, without resolving links: ``Path.resolve`` costs more than a replay."""
        try:
            relative = os.path.relpath(os.path.abspath(self.path))
        except ValueError:  # another drive
            return str(self.path)
        return str(self.path) if relative.startswith(os.pardir) else relative

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
    def before(self) -> list[RecordEntry] | None:
        """This test's calls as the committed cassette held them before the test (its part
        of a shared one); None when there was nothing: the baseline of drift and regressions."""
        if not self.file_exists:
            return None
        part = own_part(self._previous, self.recorded_by)
        return part if self.recorded_by is None or part else None

    @property
    def after(self) -> list[RecordEntry]:
        """This test's calls as the cassette holds them after the test: what was written,
        or in mode check what ``all`` would have written."""
        return self.entries

    @property
    def loaded(self) -> list[RecordEntry]:
        """The entries this test replays from (its own part of a shared cassette)."""
        return self._loaded

    @property
    def calls_replayed(self) -> int:
        http = self.http.calls_replayed if self.http is not None else self._http_done[0]
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
        unused += self.http.unused() if self.http is not None else self._http_done[1]
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
                    scrubber=self.scrubber,
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
        """One recorded LLM-level call (see :func:`recorded_call`), kept and accounted."""
        entry = recorded_call(
            agent,
            model,
            messages,
            reply,
            duration_ms,
            http_calls,
            prices=self.tracker.prices,
            recorded_by=self.recorded_by,
        )
        entry = self.scrubber.entry(entry)[0]
        self._scanned_at[id(entry)] = self.scrubber.generation
        self.recorded.append(entry)
        self.account(entry, replayed=False)

    def _replayed(self, entry: RecordEntry) -> None:
        self.account(entry, replayed=True)

    def account(self, entry: RecordEntry, *, replayed: bool) -> None:
        """Every call, LLM-level or HTTP, replayed or recorded, reaches the cost tracker
        (with its cache tokens) and, when anyone listens, the bus as an ``llm_call``."""
        try:
            self.tracker.record_call(entry)
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
        if entry.metadata.get("provider"):
            payload["provider"] = entry.metadata["provider"]
        for key in _SPAN_DETAILS:  # what a bridge's GenAI span reports beyond the usage
            if key in entry.metadata:
                payload[key] = entry.metadata[key]
        self.bus.emit(TraceEvent(time.time(), "llm_call", entry.agent_name, entry.pattern_type, payload))

    # -- HTTP capture of the provider SDKs ------------------------------------------------
    def open_http(self) -> HttpCassette:
        """Start answering (or recording) the SDKs' HTTP requests from this cassette."""
        from pyagent_trace.http import HttpCassette

        if self.http is not None:
            msg = f"{self!r} is already open; open it once at a time."
            raise ConfigError(msg)
        hint = (
            f"Re-record the cassette with: {self.rerecord_command}"
            if self.existed
            else f"Cassette {self.display_path} does not exist. Record it with: {self.record_command}"
        )
        http = HttpCassette(
            [e for e in self._loaded if e.event_type == _HTTP],
            mode=self.mode,
            source=self.display_path,
            existed=self.existed,
            prices=self.tracker.prices,
            on_record=self._http_recorded,
            on_replay=lambda entry: self._http_accounted(entry, replayed=True),
            rerecord_hint=hint,
            scrub=self.scrubber,
            ignore_hosts=self._ignore_hosts,
        )
        http.__enter__()
        self.http = http
        return http

    def close_http(self) -> list[Exception]:
        """Stop the HTTP capture; returns the replay misses the code under test met (SDKs
        turn them into vague connection errors and may retry, so they are reported here)."""
        http = self.http
        if http is None:
            return []
        self._http_done = (http.calls_replayed, http.unused())
        self.http = None
        http.errors, errors = [], list(http.errors)
        http.__exit__(None, None, None)
        return errors

    def _http_recorded(self, entry: RecordEntry) -> None:
        inside = INSIDE_LLM.get()
        if inside is not None and _is_llm(entry):  # part of a cassette.llm() call: one call, not two
            inside.append(entry)
            return
        if self.recorded_by:
            entry.metadata["recorded_by"] = self.recorded_by
        self._scanned_at[id(entry)] = self.scrubber.generation
        self.recorded.append(entry)
        self._http_accounted(entry, replayed=False)

    def _http_accounted(self, entry: RecordEntry, *, replayed: bool) -> None:
        """A provider call costs and shows up like an LLM-level call, plus its GenAI span;
        other HTTP traffic (a tool's weather API) costs nothing."""
        if _is_llm(entry):
            from pyagent_trace.http import emit_genai_span

            emit_genai_span(entry)
            self.account(entry, replayed=replayed)

    # -- as a context manager -------------------------------------------------------------
    def __enter__(self) -> Cassette:
        self.open_http()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        errors = self.close_http()
        self.finish()
        if exc is None and (errors or self.errors):
            raise (errors or self.errors)[0]

    # -- end -------------------------------------------------------------------------------
    def finish(self) -> bool:
        """Write the cassette once, if this test recorded anything and the mode writes
        (never in mode check); returns whether it wrote."""
        if not self.recorded or self.written or not self.mode.writes:
            return False
        keep_existing = self.mode is RecordMode.NEW
        self._rescan()
        try:
            write_cassette(
                self.path,
                self.recorded,
                keep_existing=keep_existing,
                recorded_by=self.recorded_by,
                previous=self._previous,
            )
        finally:  # written, or saved to a rescue file (CassetteWriteError): never twice
            self.written = True
        return True

    def _rescan(self) -> None:
        """Entries scanned before the scrubber learnt its last secret value are scanned
        again: a key learnt from a later request is redacted where it echoed earlier."""
        generation = self.scrubber.generation
        for index, entry in enumerate(self.recorded):
            if self._scanned_at.get(id(entry), -1) < generation:
                self.recorded[index] = self.scrubber.entry(entry)[0]


def _is_llm(entry: RecordEntry) -> bool:
    from pyagent_trace.http import is_llm_entry

    return is_llm_entry(entry)
