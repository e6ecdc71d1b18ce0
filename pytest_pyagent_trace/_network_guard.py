"""The network guard's patches, installed once and switched on and off per test.

Installing the guard's patches (``_network_patches``: name lookups, connect, sends, TLS,
gRPC) costs more than everything else a replaying test pays for the guard. So the first
blocker switched on installs them; they stay while guarded tests follow one another when
``linger`` is on (the pytest plugin turns it on, and releases them before a test the guard
does not cover and at the end of the session), and each test only switches its blocker on
and off. Off, every patch calls its original at once.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import threading

from pytest_pyagent_trace._network_patches import Checks, PatchSet, install, switch

__all__ = ["GUARD", "NetworkGuard"]


class NetworkGuard:
    """The process's one set of network patches and the blockers switched on now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._patches: PatchSet | None = None
        self._on: list[Checks] = []
        """Switched on, innermost last: it is the one the patches ask."""
        self.linger = False
        """Keep the patches installed when the last blocker switches off (until ``release()``)."""
        self.installs = 0
        """How many times the patches were installed (for tests and benchmarks)."""

    @property
    def installed(self) -> bool:
        return self._patches is not None

    def switch_on(self, checks: Checks) -> None:
        """Check every connection with ``checks`` until ``switch_off``; installs the patches if needed."""
        with self._lock:
            if self._patches is None:
                self._install()
            self._on.append(checks)
            switch(checks)

    def switch_off(self, checks: Checks) -> None:
        with self._lock:
            for at in range(len(self._on) - 1, -1, -1):
                if self._on[at] is checks:
                    del self._on[at]
                    break
            switch(self._on[-1] if self._on else None)
            if not self._on and not self.linger:
                self._release()

    def release(self) -> None:
        """Put the originals back, unless a blocker is on (a session-wide block stays)."""
        with self._lock:
            if not self._on:
                self._release()

    def _release(self) -> None:
        patches, self._patches = self._patches, None
        if patches is not None:
            patches.restore()

    def _install(self) -> None:
        patches = PatchSet()
        try:
            install(patches)
        except BaseException:
            patches.restore()  # a failure half-way puts back what was patched
            raise
        self._patches = patches
        self.installs += 1


GUARD = NetworkGuard()
