"""The two places where pyagent-trace plugs into vcrpy: a Cassette subclass, and streams.

vcrpy's stubs (httpx, httpx2, requests/urllib3, aiohttp, …) talk to their cassette
through a handful of methods: ``can_play_response_for``, ``play_response``, ``append``,
``write_protected`` and ``filter_request``. :class:`IndexedCassette` keeps that contract
and hands each call to an owner (``HttpCassette``) that answers from an index in O(1).
Its ``_load``/``_save`` do no file I/O: the plugin writes the cassette once, at the end.

vcrpy replays an httpx body as one chunk; :func:`chunked_stream_patches` wraps the
patched transports so a recorded Server-Sent Events stream is replayed event by event.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol
from unittest import mock

from vcr.cassette import Cassette

__all__ = ["CassetteOwner", "IndexedCassette", "chunked_stream_patches"]


class CassetteOwner(Protocol):
    """What :class:`IndexedCassette` delegates to."""

    @property
    def write_protected(self) -> bool: ...
    def can_play(self, request: Any) -> bool: ...
    def play(self, request: Any) -> dict[str, Any]: ...
    def record(self, request: Any, response: dict[str, Any]) -> None: ...
    def keep(self, request: Any) -> Any: ...
    def __len__(self) -> int: ...


class IndexedCassette(Cassette):  # type: ignore[misc]  # vcrpy is untyped
    """A vcrpy Cassette whose lookups go to ``owner`` instead of scanning ``self.data``."""

    def __init__(self, path: str, *, owner: CassetteOwner, **kwargs: Any) -> None:
        super().__init__(path, before_record_request=owner.keep, **kwargs)
        self._owner = owner

    # -- no file I/O: entries come from, and go to, the owner ------------------------------
    def _load(self) -> None:
        self.rewound = True

    def _save(self, force: bool = False) -> None:
        return None

    # -- the contract vcrpy's stubs use ------------------------------------------------------
    @property
    def write_protected(self) -> bool:
        return self._owner.write_protected

    def can_play_response_for(self, request: Any) -> bool:
        return self._owner.can_play(request)

    def __contains__(self, request: Any) -> bool:
        return self._owner.can_play(request)

    def play_response(self, request: Any) -> dict[str, Any]:
        return self._owner.play(request)

    def append(self, request: Any, response: dict[str, Any]) -> None:
        self._owner.record(request, response)

    def find_requests_with_most_matches(self, request: Any) -> list[Any]:
        # aiohttp's redirect replay asks for candidates, then plays the request itself:
        # with none, it looks the redirected request up directly (by key, here).
        return []

    def __len__(self) -> int:
        return len(self._owner)


# -- Server-Sent Events replayed chunk by chunk (httpx and httpx2) ------------------------
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


def _wrap_sync(real: Callable[..., Any], stream: type[Any], local: threading.local) -> Callable[..., Any]:
    @functools.wraps(real)
    def handle_request(transport: Any, request: Any) -> Any:
        local.chunks = None
        response = real(transport, request)
        chunks, local.chunks = local.chunks, None
        if chunks is not None:
            response.stream = stream(chunks)
        return response

    return handle_request


def _wrap_async(real: Callable[..., Any], stream: type[Any], local: threading.local) -> Callable[..., Any]:
    @functools.wraps(real)
    async def handle_async_request(transport: Any, request: Any) -> Any:
        local.chunks = None
        response = await real(transport, request)
        # No await between play_response setting the chunks and here: no other task ran.
        chunks, local.chunks = local.chunks, None
        if chunks is not None:
            response.stream = stream(chunks)
        return response

    return handle_async_request


def chunked_stream_patches(local: threading.local, skip: frozenset[str] = frozenset()) -> contextlib.ExitStack:
    """Wrap the transports vcrpy patches in httpx/httpx2: when ``play_response`` left
    ``local.chunks``, the replayed response streams them one by one. Enter it after vcrpy."""
    with contextlib.ExitStack() as stack:  # a failure half-way restores what was patched
        for name in ("httpx", "httpx2"):
            if name in skip:
                continue
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            stream = _event_stream_class(name)
            for transport in ("HTTPTransport", "WSGITransport", "MockTransport"):
                cls = getattr(module, transport)
                patch = mock.patch.object(cls, "handle_request", _wrap_sync(cls.handle_request, stream, local))
                stack.enter_context(patch)
            for transport in ("AsyncHTTPTransport", "ASGITransport", "MockTransport"):
                cls = getattr(module, transport)
                wrapped = _wrap_async(cls.handle_async_request, stream, local)
                stack.enter_context(mock.patch.object(cls, "handle_async_request", wrapped))
        return stack.pop_all()
