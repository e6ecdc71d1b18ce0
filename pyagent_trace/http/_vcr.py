"""Where pyagent-trace plugs into vcrpy: a Cassette subclass.

vcrpy's stubs (requests/urllib3, aiohttp, …; httpx and httpx2 have patches of our own, see
``_httpx``) talk to their cassette through a handful of methods: ``can_play_response_for``,
``play_response``, ``append``, ``write_protected`` and ``filter_request``.
:class:`IndexedCassette` keeps that contract and hands each call to an owner
(``HttpCassette``) that answers from an index in O(1). Its ``_load``/``_save`` do no file
I/O: the plugin writes the cassette once, at the end.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from typing import Any, Protocol

from vcr.cassette import Cassette

__all__ = ["CassetteOwner", "IndexedCassette"]


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
