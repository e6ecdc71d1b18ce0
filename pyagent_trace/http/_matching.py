"""Which recorded interaction answers a request: a key, an index, and a diff when none does.

vcrpy compares a request with every recorded one through its matcher functions, twice
per request, so replaying N calls costs O(N²) (4.5 ms per request at N=1,000 measured
here). Here a request is reduced once to a key — method, path, sorted query and the JSON
body re-serialised with sorted keys — and looked up in a dict of FIFO queues: O(1) per
request, and identical requests get their recorded answers in recorded order. The host
is not in the key by default, so a recording made through a proxy replays anywhere.
"""

from __future__ import annotations

import base64
import difflib
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

from pyagent_trace._recording import RecordEntry

__all__ = [
    "HTTP_INTERACTION",
    "InteractionIndex",
    "RequestKey",
    "describe_request",
    "diff_requests",
    "excerpt",
    "is_telemetry",
    "request_key",
]

HTTP_INTERACTION = "http_interaction"
RequestKey = tuple[str, str, str, bytes]
"""(METHOD, [host] + path, sorted query, normalised body)."""

TELEMETRY_PATH_ENDS = ("/v1/traces", "/v1/metrics", "/v1/logs")
TELEMETRY_PATH_PARTS = ("/api/public/",)  # Langfuse ingestion and its OTLP endpoint
TELEMETRY_PORTS = frozenset({4317, 4318, 8126})  # OTLP gRPC / HTTP, Datadog Agent
_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_PRETTY = _SORTED | orjson.OPT_INDENT_2


def is_telemetry(url: str, ignore_hosts: frozenset[str] = frozenset()) -> bool:
    """Traffic of the observability stack (OTLP, Langfuse, Datadog) or of an ignored host."""
    parts = urlsplit(url)
    path = parts.path
    if path.endswith(TELEMETRY_PATH_ENDS) or any(p in path for p in TELEMETRY_PATH_PARTS):
        return True
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").lower()
    return port in TELEMETRY_PORTS or host in ignore_hosts or f"{host}:{port}" in ignore_hosts


def _body_key(side: Mapping[str, Any]) -> bytes:
    if "body_base64" in side:
        return base64.b64decode(side["body_base64"])
    body = side.get("body")
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return orjson.dumps(body, option=_SORTED)


def request_key(request: Mapping[str, Any], *, match_host: bool = False) -> RequestKey:
    """The lookup key of a stored (scrubbed) request side: ``{"method", "url", "body"}``."""
    parts = urlsplit(str(request.get("url", "")))
    where = f"{parts.netloc.lower()}{parts.path}" if match_host else parts.path
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True))) if parts.query else ""
    return str(request.get("method", "")).upper(), where, query, _body_key(request)


class InteractionIndex:
    """Recorded interactions by key, each key a FIFO queue; built once, O(1) per lookup."""

    def __init__(self, entries: Iterable[RecordEntry], *, match_host: bool = False) -> None:
        self.match_host = match_host
        self.entries = [e for e in entries if e.event_type == HTTP_INTERACTION]
        self._queues: dict[RequestKey, deque[RecordEntry]] = {}
        self._lock = threading.Lock()
        for entry in self.entries:
            request = entry.metadata.get("http", {}).get("request", {})
            self._queues.setdefault(request_key(request, match_host=match_host), deque()).append(entry)
        self._number = {id(e): n for n, e in enumerate(self.entries, start=1)}
        self.used: list[RecordEntry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def take(self, key: RequestKey) -> RecordEntry | None:
        """The next unused interaction recorded for ``key``, or None."""
        with self._lock:
            queue = self._queues.get(key)
            if not queue:
                return None
            entry = queue.popleft()
            self.used.append(entry)
            return entry

    def recorded_for(self, key: RequestKey) -> int:
        """How many interactions were recorded for ``key`` (used or not)."""
        return sum(1 for e in self.used if self._key_of(e) == key) + len(self._queues.get(key, ()))

    def number(self, entry: RecordEntry) -> int:
        """1-based position of ``entry`` among the recorded interactions."""
        return self._number[id(entry)]

    def unused(self) -> list[RecordEntry]:
        used = {id(e) for e in self.used}
        return [e for e in self.entries if id(e) not in used]

    def _key_of(self, entry: RecordEntry) -> RequestKey:
        return request_key(entry.metadata["http"]["request"], match_host=self.match_host)

    def nearest(self, request: Mapping[str, Any]) -> RecordEntry | None:
        """The recorded request that reads most like ``request`` (unused ones first, same
        method and path first); only called to explain a miss, so it may be slow."""
        pool = self.unused() or self.entries
        method, path = request_key(request)[:2]
        same = [e for e in pool if request_key(e.metadata["http"]["request"])[:2] == (method, path)]
        pool = same or pool
        if not pool:
            return None
        target = "\n".join(describe_request(request))
        scored = [(difflib.SequenceMatcher(None, "\n".join(describe_request(_req(e))), target), e) for e in pool]
        if len(scored) > 50:  # cheap upper bounds first, then the real ratio on the best few
            scored = sorted(scored, key=lambda pair: -pair[0].quick_ratio())[:50]
        return max(scored, key=lambda pair: pair[0].ratio())[1]


def _req(entry: RecordEntry) -> Mapping[str, Any]:
    request: Mapping[str, Any] = entry.metadata["http"]["request"]
    return request


def describe_request(request: Mapping[str, Any]) -> list[str]:
    """``METHOD path?query`` then the body, pretty JSON with sorted keys: lines for a diff."""
    parts = urlsplit(str(request.get("url", "")))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{str(request.get('method', '')).upper()} {target}"]
    body = request.get("body")
    if "body_base64" in request:
        lines.append(f"<{len(base64.b64decode(request['body_base64']))} bytes of binary body>")
    elif isinstance(body, str):
        lines.extend(body.splitlines())
    elif body is not None:
        lines.extend(orjson.dumps(body, option=_PRETTY).decode().splitlines())
    return lines


def diff_requests(recorded: Mapping[str, Any], actual: Mapping[str, Any], *, max_lines: int = 60) -> str:
    """A ``- recorded / + actual`` unified diff of two requests, long lines and diffs cut."""
    diff = list(
        difflib.unified_diff(
            describe_request(recorded), describe_request(actual), "recorded", "actual", lineterm="", n=2
        )
    )
    diff = [line if len(line) <= 240 else f"{line[:240]}…" for line in diff]
    if len(diff) > max_lines:
        diff = [*diff[:max_lines], f"... ({len(diff) - max_lines} more diff lines)"]
    return "\n".join(diff)


def excerpt(lines: Sequence[str], limit: int = 12) -> str:
    """The first ``limit`` lines, indented, for an error message."""
    shown = [f"    {line[:200]}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"    ... ({len(lines) - limit} more lines)")
    return "\n".join(shown)
