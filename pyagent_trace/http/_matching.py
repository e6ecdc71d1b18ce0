"""Which recorded interaction answers a request: a key, an index, and a diff when none does.

vcrpy compares a request with every recorded one through its matcher functions, twice
per request, so replaying N calls costs O(N²) (4.5 ms per request at N=1,000 measured
here). Here a request is reduced once to a key — method, path, sorted query and the JSON
body re-serialised with sorted keys — and looked up in a dict of FIFO queues: O(1) per
request, and identical requests get their recorded answers in recorded order. The host
is not in the key by default, so a recording made through a proxy replays anywhere.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

from pyagent_trace._recording import RecordEntry
from pyagent_trace._replay_index import ReplayIndex

__all__ = [
    "HTTP_INTERACTION",
    "RequestKey",
    "describe_request",
    "interaction_index",
    "request_key",
    "same_endpoint",
]

HTTP_INTERACTION = "http_interaction"
RequestKey = tuple[str, str, str, bytes]
"""(METHOD, [host] + path, sorted query, normalised body)."""

_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_PRETTY = _SORTED | orjson.OPT_INDENT_2


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


def interaction_index(entries: Iterable[RecordEntry], *, match_host: bool = False) -> ReplayIndex[RequestKey]:
    """The ``http_interaction`` entries in the one replay index (see ``_replay_index``),
    keyed by :func:`request_key` and described by :func:`describe_request`."""

    def key(entry: RecordEntry) -> RequestKey:
        return request_key(entry.metadata["http"]["request"], match_host=match_host)

    def describe(entry: RecordEntry) -> list[str]:
        return describe_request(entry.metadata["http"]["request"])

    return ReplayIndex([e for e in entries if e.event_type == HTTP_INTERACTION], key, describe)


def same_endpoint(request: Mapping[str, Any]) -> Callable[[RecordEntry], bool]:
    """Whether a recorded interaction has ``request``'s method and path: nearest-match
    candidates of a miss are looked for among those first."""
    wanted = request_key(request)[:2]
    return lambda entry: request_key(entry.metadata["http"]["request"])[:2] == wanted


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
