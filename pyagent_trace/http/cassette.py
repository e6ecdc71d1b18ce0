"""HttpCassette: record and replay the HTTP calls of provider SDKs, in the test's cassette.

A context manager around vcrpy's patching: while it is open, every request made through
httpx, httpx2, requests/urllib3 or aiohttp is answered from the recorded entries
(replay) or sent and turned into a scrubbed ``http_interaction`` entry (record). It
never writes a file: entries are handed out (``on_record``, ``.recorded``) and the
owner of the cassette file writes them once, with the LLM-level entries, at test end.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from pyagent_trace import _framework_agents as framework_agents
from pyagent_trace._recording import RecordEntry
from pyagent_trace._replay_index import replay_miss
from pyagent_trace.exceptions import ConfigError, ReplayMismatchError
from pyagent_trace.http._background import EMPTY, background_rule, empty_response, is_loopback, parse_rules
from pyagent_trace.http._capture import CAPTURE
from pyagent_trace.http._convert import (
    FIRST_CHUNK_KEY,
    parse_body,
    request_body,
    request_to_dict,
    response_from_vcr,
    response_to_vcr,
)
from pyagent_trace.http._entry import build_entry, current_agent_name
from pyagent_trace.http._matching import (
    RequestKey,
    describe_request,
    interaction_index,
    request_key,
    same_endpoint,
)
from pyagent_trace.pricing import DEFAULT_PRICES, PriceTable
from pyagent_trace.record_mode import RecordMode
from pyagent_trace.scrub import Scrubber, ScrubConfig

__all__ = ["HttpCassette", "RecordMode"]

_log = logging.getLogger(__name__)
_MATCH = "_pyagent_trace_match"  # attributes set on vcrpy's Request objects
_STARTED = "_pyagent_trace_started"
_BACKGROUND = object()  # the _MATCH of background traffic answered with an empty success


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _header(response: dict[str, Any], name: str) -> bool:
    return any(str(key).lower() == name for key in response.get("headers") or {})


class HttpCassette:
    """Record and/or replay HTTP interactions while open (``with HttpCassette(...):``).

    Args:
        loaded: the cassette's entries; only ``http_interaction`` ones are replayed.
        mode: ``"none"`` replays only; ``"once"`` replays when the cassette existed, else
            records; ``"new"`` replays what matches and records the rest; ``"all"`` records.
        source: the cassette's path, for error messages.
        scrub: secret filters applied before anything is kept (default: ``ScrubConfig()``);
            a ``Scrubber`` shares what it learnt with the rest of the cassette.
        ignore_hosts: more background traffic (``"name"``, ``"name:port"``, ``".domain"``,
            ``"name/path/part"``) besides the built-in list (``http._background``: telemetry
            exports, LangSmith, LiteLLM's price map…): never recorded; in replay, exports get
            an empty success and the rest meets the network (blocked when the plugin replays).
        on_record / on_replay: called with each entry recorded / handed out.
        rerecord_hint: how to refresh the cassette, the last line of replay errors.
        prices: for the cost of recorded calls (default: ``DEFAULT_PRICES``).
        match_host: also match the host (default: any host replays, proxies included).
        existed: whether the cassette file existed (mode ``"once"``); default ``bool(loaded)``.
        skip_patchers: vcrpy patcher names to leave alone, e.g. ``("aiohttp",)``.
    """

    def __init__(
        self,
        loaded: Iterable[RecordEntry] = (),
        *,
        mode: RecordMode | str = RecordMode.NONE,
        source: str = "<memory>",
        scrub: ScrubConfig | Scrubber | None = None,
        ignore_hosts: Iterable[str] = (),
        on_record: Callable[[RecordEntry], None] | None = None,
        on_replay: Callable[[RecordEntry], None] | None = None,
        rerecord_hint: str = "Re-record the cassette (record mode 'all'; 'new' adds only the missing requests).",
        prices: PriceTable | None = None,
        match_host: bool = False,
        existed: bool | None = None,
        skip_patchers: Iterable[str] = (),
    ) -> None:
        self.mode = RecordMode.parse(str(mode), "HttpCassette(mode=…)")
        entries = list(loaded)
        self.source = source
        existed = bool(entries) if existed is None else existed
        self.replaying = self.mode.replays(existed)
        self.recording = self.mode.records_missing(existed)
        self.scrubber = scrub if isinstance(scrub, Scrubber) else Scrubber(scrub)
        self._extra = parse_rules(ignore_hosts)
        self._on_record, self._on_replay = on_record, on_replay
        self._hint = rerecord_hint
        self._prices = prices if prices is not None else DEFAULT_PRICES
        self.match_host = match_host
        self._index = interaction_index(entries if self.replaying else (), match_host=match_host)
        self._skip = tuple(skip_patchers)
        self.recorded: list[RecordEntry] = []
        self.errors: list[Exception] = []
        """Replay misses, then failures deferred out of the HTTP client (see ``_deferred``)."""
        self.calls_replayed = 0
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._local = CAPTURE.local
        self._open = False

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self) -> HttpCassette:
        if self._open:
            msg = f"HttpCassette for {self.source} is already open; open it once at a time."
            raise ConfigError(msg)
        CAPTURE.attach(self, frozenset(self._skip))
        framework_agents.enable()  # the agent frameworks imported so far name the calls' agents
        self._open = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._open:
            self._open = False
            CAPTURE.detach(self)
        # SDKs wrap transport errors (openai: APIConnectionError "Connection error.") and
        # code under test may swallow them: the replay miss is the real failure, say it.
        if self.errors and not any(exc is error for error in self.errors):
            raise self.errors[0]

    @contextlib.contextmanager
    def _deferred(self, what: str) -> Iterator[None]:
        """Run ``what`` so that its failure never reaches the HTTP client: an SDK would take
        it for a network error and retry, sending a paid request again. It is kept in
        ``errors`` and raised when the cassette closes."""
        try:
            yield
        except Exception as err:
            _log.warning("HttpCassette for %s: %s failed; raised when the cassette closes", self.source, what)
            with self._lock:
                self.errors.append(err)

    # -- state -------------------------------------------------------------------------------
    def unused(self) -> list[RecordEntry]:
        """Recorded interactions no request asked for (stale parts of the cassette)."""
        return self._index.unused() if self.replaying else []

    @property
    def write_protected(self) -> bool:
        """True when a request the cassette lacks is an error rather than a recording."""
        return not self.recording

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"HttpCassette(source={self.source!r}, mode={self.mode!r}, interactions={len(self)})"

    # -- what IndexedCassette delegates (vcrpy's stubs call these) ----------------------------
    def keep(self, request: Any) -> Any:
        """vcrpy's ``before_record_request``: None for background traffic, never recorded."""
        return None if background_rule(str(request.uri), self._extra) is not None else request

    def can_play(self, request: Any) -> bool:
        if request.__dict__.get(_MATCH) is not None:
            return True  # urllib3 asks twice (connect, then getresponse)
        uri = str(request.uri)
        rule = background_rule(uri, self._extra)
        if rule is not None:  # recording: it goes where it is sent; loopback: a local collector
            if rule.answer == EMPTY and not self.recording and not is_loopback(_host(uri)):
                setattr(request, _MATCH, _BACKGROUND)
                return True
            return False
        if self.replaying:
            side, key = self._lookup(request)
            entry = self._index.take(key)
            if entry is not None:
                setattr(request, _MATCH, entry)
                return True
            if not self.recording:
                raise self._miss(side, key)
        request.__dict__.setdefault(_STARTED, time.perf_counter())
        return False

    def play(self, request: Any) -> dict[str, Any]:
        entry = request.__dict__.pop(_MATCH, None)
        if entry is _BACKGROUND:
            self._local.chunks = None
            return empty_response()
        if entry is None:  # aiohttp's redirects are played without asking first
            side, key = self._lookup(request)
            entry = self._index.take(key)
            if entry is None:
                raise self._miss(side, key)
        stored = entry.metadata["http"]["response"]
        events = stored.get("sse_events")
        self._local.chunks = [e.encode("utf-8") for e in events] if events else None
        with self._lock:
            self.calls_replayed += 1
        if self._on_replay is not None:
            with self._deferred("on_replay"):
                self._on_replay(entry)
        return response_to_vcr(stored)

    def record(self, request: Any, response: dict[str, Any]) -> None:
        if self.keep(request) is not None:
            with self._deferred("recording the response"):
                self._record(request, response)

    def _record(self, request: Any, response: dict[str, Any]) -> None:
        started = request.__dict__.pop(_STARTED, None)
        duration_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        stored = response_from_vcr(response)
        interaction = {"request": request_to_dict(request), "response": stored}
        if stored.get("sse_events") and not _header(response, "content-encoding"):
            # The client of a recorded stream gets it event by event too, as on replay.
            self._local.chunks = [e.encode("utf-8") for e in stored["sse_events"]]
        first = response.get(FIRST_CHUNK_KEY)
        with self._lock:  # the scrubber learns secret values: one interaction at a time
            interaction, _ = self.scrubber.http(interaction, scan=False, streams=False)
            entry = build_entry(interaction, timestamp=time.time(), duration_ms=duration_ms, prices=self._prices,
                                agent_name=current_agent_name(),
                                first_chunk_ms=first * 1000 if isinstance(first, float) else None)  # fmt: skip
            entry = self.scrubber.entry(entry, structured=False)[0]  # the assembled text too
            self.recorded.append(entry)
        if self._on_record is not None:
            with self._deferred("on_record"):
                self._on_record(entry)

    # -- lookup and errors -------------------------------------------------------------------
    def _lookup(self, request: Any) -> tuple[dict[str, Any], RequestKey]:
        """The request as it would be stored (scrubbed the same way), and its key."""
        raw = request_body(request)
        url = str(request.uri)
        side = {"method": str(request.method).upper(), "url": url, **parse_body(raw)}
        with self._lock:
            self.scrubber.learn_headers(request.headers.items())  # secret values echoed in the body
            text = raw.decode("utf-8", "replace") if raw else ""
            if "body_base64" not in side and self.scrubber.looks_clean(text, url):
                scrubbed: dict[str, Any] = side  # nothing to redact: the full walk would change nothing
            else:
                scrubbed = self.scrubber.http({"request": side})[0]["request"]
        return scrubbed, request_key(scrubbed, match_host=self.match_host)

    def _miss(self, side: dict[str, Any], key: RequestKey) -> ReplayMismatchError:
        number = next(self._numbers) + self.calls_replayed
        actual = describe_request(side)
        recorded = self._index.recorded_for(key)
        error = replay_miss(
            f"HTTP replay (cassette {self.source}): request #{number} {actual[0]}",
            self._index,
            actual,
            hint=self._hint,
            noun="interaction",
            recorded=recorded,
            nearest=None if recorded else self._index.nearest(actual, prefer=same_endpoint(side)),
        )
        with self._lock:
            self.errors.append(error)
        return error
