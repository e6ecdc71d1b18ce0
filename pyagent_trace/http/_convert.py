"""vcrpy's request/response objects to the cassette's ``metadata["http"]`` dict and back.

The stored form is for people first: header names lower-cased with a list of values,
bodies decompressed and parsed (a JSON object or array stays JSON, other text stays a
string, bytes that are not UTF-8 go to ``body_base64``), and a Server-Sent Events
stream kept as its list of raw events, so that a pull request shows what was said.
Replay turns it back into the bytes a client expects: same status, headers (without
``content-encoding``, with a correct ``content-length``) and body, event by event.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import base64
import gzip
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from pyagent_trace._secrets import is_placeholder

__all__ = [
    "FIRST_CHUNK_KEY",
    "TIME_TO_FIRST_CHUNK",
    "body_bytes",
    "headers_to_dict",
    "parse_body",
    "request_body",
    "request_to_dict",
    "response_from_vcr",
    "response_to_vcr",
    "split_sse",
    "sse_chunks",
]

FIRST_CHUNK_KEY = "pyagent_trace_first_chunk_s"
"""Set by a transport that saw the body arrive chunk by chunk (httpx): seconds from
sending the request to its first body chunk, for ``gen_ai.response.time_to_first_chunk``."""

TIME_TO_FIRST_CHUNK = "time_to_first_chunk_ms"
"""Cassette metadata key of a recorded stream's time to first chunk: volatile like
``duration_ms``, so a re-record that changes only it keeps the stored line."""

_EVENT_END = re.compile(r".*?(?:\r\n\r\n|\n\n|\r\r)", re.DOTALL)
_DROPPED_ON_REPLAY = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes | bytearray) else str(value)


def headers_to_dict(items: Iterable[tuple[Any, Any]]) -> dict[str, list[str]]:
    """``{lower-case name: [values]}`` from (name, value-or-values) pairs."""
    out: dict[str, list[str]] = {}
    for name, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        out.setdefault(_text(name).lower(), []).extend(_text(v) for v in values)
    return out


def _looks_like_json(data: bytes) -> bool:
    start = data.lstrip()[:1]
    return start in (b"{", b"[")


def parse_body(data: bytes | str | None) -> dict[str, Any]:
    """``{"body": <JSON object/array or text>}``, or ``{"body_base64": …}`` for binary.

    Only objects and arrays are stored as JSON: a JSON scalar stays text, so replay
    never has to guess which of the two the bytes were.
    """
    if data is None or data == b"" or data == "":
        return {"body": ""}
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if _looks_like_json(raw):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if type(value) is dict or type(value) is list:
                return {"body": value}
    try:
        return {"body": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(raw).decode("ascii")}


def body_bytes(stored: Mapping[str, Any]) -> bytes:
    """The wire bytes of a stored request or response side."""
    events = stored.get("sse_events")
    if events:
        return "".join(events).encode("utf-8")
    if "body_base64" in stored:
        return base64.b64decode(stored["body_base64"])
    body = stored.get("body")
    if body is None or body == "":
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return orjson.dumps(body)


def request_body(request: Any) -> bytes | None:
    """The body of a vcrpy ``Request`` as bytes, whatever the client gave (aiohttp passes
    its ``json=`` argument through as a dict: it is encoded as JSON here)."""
    body = request.body_bytes if hasattr(request, "body_bytes") else request.body
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if isinstance(body, dict):
        return orjson.dumps(body, default=str)
    if isinstance(body, list):
        if all(isinstance(part, bytes) for part in body):
            return b"".join(body)
        return orjson.dumps(body, default=str)
    return str(body).encode("utf-8")


# Trace context differs on every run (ids, and with some SDKs the test order): never stored.
TRACE_CONTEXT_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})
# Response headers that change on every call though the answer does not: a re-record of an
# unchanged interaction keeps the stored ones, so the cassette stays byte-identical.
VOLATILE_HEADERS = frozenset(
    {"date", "age", "expires", "x-request-id", "request-id", "x-amzn-requestid", "cf-ray", "server-timing",
     "openai-processing-ms", "x-envoy-upstream-service-time", "x-goog-request-id", "retry-after"}
)  # fmt: skip
VOLATILE_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-", "ratelimit-")


def is_volatile_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in VOLATILE_HEADERS or lowered in TRACE_CONTEXT_HEADERS or lowered.startswith(VOLATILE_PREFIXES)


def request_to_dict(request: Any) -> dict[str, Any]:
    """A vcrpy ``Request`` as ``{"method", "url", "headers", "body"}``, trace context left out."""
    headers = headers_to_dict(request.headers.items())
    return {
        "method": str(request.method).upper(),
        "url": str(request.uri),
        "headers": {k: v for k, v in headers.items() if k not in TRACE_CONTEXT_HEADERS},
        **parse_body(request_body(request)),
    }


def without_volatile(interaction: dict[str, Any]) -> dict[str, Any]:
    """The interaction with its volatile headers removed: what must be equal for a re-record
    to count as unchanged."""
    stable = {}
    for side in ("request", "response"):
        part = interaction.get(side)
        if isinstance(part, dict):
            headers = part.get("headers")
            kept = (
                {k: v for k, v in headers.items() if not is_volatile_header(str(k))}
                if isinstance(headers, dict)
                else {}
            )
            part = {**part, "headers": kept}
        stable[side] = part
    return stable


def _decompress(data: bytes, encoding: str) -> bytes | None:
    """``data`` decoded, or None for an encoding we cannot undo (it is then kept as is).

    aiohttp hands vcrpy the body already decoded under a ``content-encoding: gzip``
    header: bytes that do not decode are taken to be that plain body.
    """
    result = data
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding not in ("gzip", "x-gzip", "deflate", "identity"):
            return None
        try:
            if coding in ("gzip", "x-gzip"):
                result = gzip.decompress(result)
            elif coding == "deflate":
                result = _inflate(result)
        except (OSError, EOFError, zlib.error):
            return data
    return result


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:  # raw deflate, as some servers send it
        return zlib.decompress(data, -zlib.MAX_WBITS)


def split_sse(text: str) -> list[str]:
    """Raw events of an SSE body, each with its blank-line terminator: joined, they are the body."""
    events = [match.group(0) for match in _EVENT_END.finditer(text)]
    rest = text[sum(len(e) for e in events) :]
    return [*events, rest] if rest else events


def response_from_vcr(response: Mapping[str, Any]) -> dict[str, Any]:
    """vcrpy's recorded response (``status``/``headers``/``body.string``) as the stored form."""
    status = response.get("status") or {}
    headers = headers_to_dict((response.get("headers") or {}).items())
    raw = (response.get("body") or {}).get("string", b"") or b""
    raw = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    encoding = ", ".join(headers.get("content-encoding", []))
    if encoding:
        decoded = _decompress(raw, encoding)
        if decoded is not None:
            raw = decoded
            headers.pop("content-encoding")
            if "content-length" in headers:
                headers["content-length"] = [str(len(raw))]
    out: dict[str, Any] = {
        "status": int(status.get("code", 0)),
        "reason": str(status.get("message") or ""),
        "headers": headers,
    }
    content_type = ", ".join(headers.get("content-type", [])).lower()
    if "text/event-stream" in content_type:
        try:
            out["body"], out["sse_events"] = "", split_sse(raw.decode("utf-8"))
            return out
        except UnicodeDecodeError:
            pass
    out.update(parse_body(raw))
    return out


def response_to_vcr(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form as the dict vcrpy's stubs build a client response from (fresh each
    call: vcrpy's requests stub edits the headers it is given)."""
    data = body_bytes(stored)
    headers = {
        name: list(values)
        for name, values in (stored.get("headers") or {}).items()
        if name.lower() not in _DROPPED_ON_REPLAY and not all(is_placeholder(str(v)) for v in values)
    }  # a header redacted when recorded is not replayed: a cookie named <redacted> only misleads the client
    had_length = any(name.lower() == "content-length" for name in stored.get("headers") or {})
    if had_length or not stored.get("sse_events"):
        headers["content-length"] = [str(len(data))]
    return {
        "status": {"code": int(stored.get("status", 200)), "message": str(stored.get("reason") or "")},
        "headers": headers,
        "body": {"string": data},
    }


def sse_chunks(stored: Mapping[str, Any]) -> list[bytes] | None:
    """One byte chunk per recorded event, for streams replayed chunk by chunk; else None."""
    events = stored.get("sse_events")
    return [event.encode("utf-8") for event in events] if events else None
