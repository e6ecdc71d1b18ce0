"""vcrpy's patches of the HTTP clients, installed once and handed from cassette to cassette.

Installing vcrpy's ~45 patches (and failing to import boto3, tornado, httplib2… each
time) costs more than replaying a test's calls. So the patches are installed by the first
``HttpCassette`` opened, stay while cassettes follow one another when ``linger`` is on
(the pytest plugin turns it on, and releases them before a test that uses no cassette and
at the end of the session), and each cassette only *attaches* itself to them. With no
cassette attached, every request goes through untouched and nothing is recorded.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from pyagent_trace._gc import gc_paused
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.http._httpx import HTTPX_MODULES, httpx_patches

if TYPE_CHECKING:
    from pyagent_trace.http._vcr import CassetteOwner

__all__ = ["CAPTURE", "HttpCapture"]


class HttpCapture:
    """The process's one set of HTTP patches and the cassette they answer for now."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._owner: CassetteOwner | None = None
        self._stack: contextlib.ExitStack | None = None
        self._skip: frozenset[str] = frozenset()
        self.local = threading.local()
        """Per thread: the recorded SSE events the next replayed httpx response streams."""
        self.linger = False
        """Keep the patches installed when a cassette detaches (released by ``release()``)."""
        self.installs = 0
        """How many times the patches were installed (for tests and benchmarks)."""

    @property
    def installed(self) -> bool:
        return self._stack is not None

    def attach(self, owner: CassetteOwner, skip_patchers: frozenset[str] = frozenset()) -> None:
        """Answer HTTP requests from ``owner`` until ``detach``; installs the patches if needed."""
        with self._lock:
            if self._owner is not None:
                current = getattr(self._owner, "source", "another cassette")
                msg = f"HTTP capture is already attached to {current}; open one cassette at a time."
                raise ConfigError(msg)
            if self._stack is not None and skip_patchers != self._skip:
                self.release()
            if self._stack is None:
                self._install(skip_patchers)
            self._owner = owner

    def detach(self, owner: CassetteOwner) -> None:
        with self._lock:
            if self._owner is owner:
                self._owner = None
            if not self.linger:
                self.release()

    def release(self) -> None:
        """Remove the patches (no cassette may be attached)."""
        with self._lock:
            stack, self._stack = self._stack, None
            if stack is not None:
                stack.close()

    def _install(self, skip_patchers: frozenset[str]) -> None:
        with gc_paused():  # vcrpy imports every HTTP client it knows (~85 ms), once a process
            from vcr.patch import CassettePatcherBuilder

            from pyagent_trace.http._vcr import IndexedCassette

        with contextlib.ExitStack() as stack:  # a failure half-way restores what was patched
            # httpx and httpx2 get patches of our own (see _httpx); vcrpy patches the rest.
            vcr_skip = tuple(sorted(skip_patchers | set(HTTPX_MODULES)))
            cassette = IndexedCassette("<pyagent-trace>", owner=self, skip_patchers=vcr_skip)
            for patcher in CassettePatcherBuilder(cassette).build():
                stack.enter_context(patcher)
            stack.enter_context(httpx_patches(self, skip_patchers))
            self._stack = stack.pop_all()
        self._skip = skip_patchers
        self.installs += 1

    def owner_for(self, request: Any) -> CassetteOwner | None:
        """The cassette that answers ``request`` (None: let it through untouched)."""
        return self._owner

    # -- what IndexedCassette asks (vcrpy's stubs call these); no owner: pass through ------
    @property
    def write_protected(self) -> bool:
        owner = self._owner
        return owner is not None and owner.write_protected

    def can_play(self, request: Any) -> bool:
        owner = self._owner
        return owner is not None and owner.can_play(request)

    def play(self, request: Any) -> dict[str, Any]:
        owner = self._owner
        if owner is None:  # cannot happen: vcrpy plays only what can_play accepted
            msg = "HTTP capture asked to replay with no cassette attached."
            raise ConfigError(msg)
        return owner.play(request)

    def record(self, request: Any, response: dict[str, Any]) -> None:
        owner = self._owner
        if owner is not None:
            owner.record(request, response)

    def keep(self, request: Any) -> Any:
        owner = self._owner
        return None if owner is None else owner.keep(request)

    def __len__(self) -> int:
        owner = self._owner
        return 0 if owner is None else len(owner)


CAPTURE = HttpCapture()
"""The process's capture: HTTP patches are process-wide, so there is exactly one."""
