"""httpx and httpx2, the clients the OpenAI, Anthropic and Google SDKs use, answered by
patches of our own instead of vcrpy's stubs.

vcrpy's httpx stub builds a vcrpy ``Request`` for every call and copies every header into
its case-insensitive dict before asking the cassette anything: about a third of what a
replayed SDK call cost above the bare SDK (bench/bench_suite.py). These patches hand the
cassette a light request with the attributes it reads, and build the client's response
straight from the stored one, a recorded Server-Sent Events stream one event per chunk.
vcrpy still patches the other clients (requests/urllib3, aiohttp, …). The cassette side is
the same contract vcrpy's stubs use (``can_play``, ``play``, ``record``), so replay,
record, matching and errors do not depend on which patch answered.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol
from unittest import mock

from pyagent_trace.http._convert import FIRST_CHUNK_KEY

__all__ = ["HTTPX_MODULES", "HttpxRequest", "httpx_patches"]

HTTPX_MODULES = ("httpx", "httpx2")
_SYNC = ("HTTPTransport", "WSGITransport", "MockTransport")
_ASYNC = ("AsyncHTTPTransport", "ASGITransport", "MockTransport")


class _Capture(Protocol):
    local: threading.local

    def owner_for(self, request: Any) -> Any: ...


class HttpxRequest:
    """What the cassette reads of a request (vcrpy's ``Request`` has the same attributes)."""

    def __init__(self, method: str, uri: str, headers: Any, body: bytes) -> None:
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body


@functools.cache
def _event_stream_class(module_name: str) -> type[Any]:
    module = importlib.import_module(module_name)

    class EventStream(module.SyncByteStream, module.AsyncByteStream):  # type: ignore[misc,name-defined]
        """A response body yielding one recorded SSE event per chunk."""

        def __init__(self, chunks: list[bytes]) -> None:
            self._chunks = chunks

        def __iter__(self) -> Iterator[bytes]:
            yield from self._chunks

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for chunk in self._chunks:
                yield chunk

    return EventStream


def _response(module: Any, stored: dict[str, Any], chunks: list[bytes] | None, request: Any) -> Any:
    """The client's response from a stored one (vcrpy's response dict shape)."""
    headers = [(name, value) for name, values in stored["headers"].items() for value in values]
    message = stored["status"].get("message")
    stream = _event_stream_class(module.__name__)(chunks) if chunks else module.ByteStream(stored["body"]["string"])
    extensions = {"reason_phrase": message.encode("ascii", "replace")} if message else None
    return module.Response(
        stored["status"]["code"], headers=headers, stream=stream, extensions=extensions, request=request
    )


def _recorded(response: Any, content: bytes, first_chunk_s: float | None) -> dict[str, Any]:
    """A real response as vcrpy's response dict (raw body: decoded when stored)."""
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        headers.setdefault(name, []).append(value)
    return {
        "status": {"code": response.status_code, "message": response.reason_phrase},
        "headers": headers,
        "body": {"string": content},
        FIRST_CHUNK_KEY: first_chunk_s,
    }


class _Timed:
    """The body chunks of a real response, and when the first one came."""

    __slots__ = ("chunks", "first", "started")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: float | None = None
        self.chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        if self.first is None and chunk:
            self.first = time.perf_counter() - self.started
        self.chunks.append(chunk)


def _take_chunks(capture: _Capture) -> list[bytes] | None:
    chunks: list[bytes] | None = getattr(capture.local, "chunks", None)
    capture.local.chunks = None
    return chunks


def _sync_patch(capture: _Capture, module: Any, real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def handle_request(transport: Any, request: Any) -> Any:
        owner = capture.owner_for(request)
        if owner is None:
            return real(transport, request)
        body = b"".join(request.stream)
        request.stream = module.ByteStream(body)
        light = HttpxRequest(request.method, str(request.url), request.headers, body)
        capture.local.chunks = None
        if owner.can_play(light):
            stored = owner.play(light)
            return _response(module, stored, _take_chunks(capture), request)
        timed = _Timed()
        response = real(transport, request)
        try:
            for chunk in response.stream:
                timed.add(chunk)
        finally:
            response.stream.close()
        content = b"".join(timed.chunks)
        owner.record(light, _recorded(response, content, timed.first))
        chunks = _take_chunks(capture)
        response.stream = _event_stream_class(module.__name__)(chunks) if chunks else module.ByteStream(content)
        return response

    return handle_request


def _async_patch(capture: _Capture, module: Any, real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    async def handle_async_request(transport: Any, request: Any) -> Any:
        owner = capture.owner_for(request)
        if owner is None:
            return await real(transport, request)
        body = b"".join([part async for part in request.stream])
        request.stream = module.ByteStream(body)
        light = HttpxRequest(request.method, str(request.url), request.headers, body)
        capture.local.chunks = None
        if owner.can_play(light):  # no await until the chunks are taken: no other task runs
            stored = owner.play(light)
            return _response(module, stored, _take_chunks(capture), request)
        timed = _Timed()
        response = await real(transport, request)
        try:
            async for chunk in response.stream:
                timed.add(chunk)
        finally:
            await response.stream.aclose()
        content = b"".join(timed.chunks)
        owner.record(light, _recorded(response, content, timed.first))
        chunks = _take_chunks(capture)
        response.stream = _event_stream_class(module.__name__)(chunks) if chunks else module.ByteStream(content)
        return response

    return handle_async_request


def httpx_patches(capture: _Capture, skip: frozenset[str] = frozenset()) -> contextlib.ExitStack:
    """Patch the transports of httpx and httpx2 (those installed, not in ``skip``)."""
    with contextlib.ExitStack() as stack:  # a failure half-way restores what was patched
        for name in HTTPX_MODULES:
            if name in skip:
                continue
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            for transport in _SYNC:
                cls = getattr(module, transport)
                patched = _sync_patch(capture, module, cls.handle_request)
                stack.enter_context(mock.patch.object(cls, "handle_request", patched))
            for transport in _ASYNC:
                cls = getattr(module, transport)
                patched = _async_patch(capture, module, cls.handle_async_request)
                stack.enter_context(mock.patch.object(cls, "handle_async_request", patched))
        return stack.pop_all()
