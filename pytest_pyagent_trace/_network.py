"""Refuse outbound network traffic while replaying, so no test can reach a paid API.

What Python code can do to reach another host goes through a handful of calls, and each
is checked while the block is on:

* name lookups (``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``,
  ``gethostbyaddr``) in ``socket`` and ``_socket``: refused for a non-allowed host, so the
  error names the host the code asked for;
* ``connect``/``connect_ex``, datagram ``sendto``/``sendmsg`` (``MSG_FASTOPEN`` included)
  on ``socket.socket`` and on sockets made by ``_socket.socket(...)`` while blocked;
* ``send``/``sendall``/``sendmsg``/``sendfile`` (plain and TLS) on a socket connected
  *before* the block (a keep-alive pool made at import time): refused unless its peer is
  loopback or allowed;
* the first bytes sent to a loopback peer: an HTTP proxy request (``CONNECT host:port``,
  ``GET http://host/…``) or a SOCKS4/5 request to a non-allowed host is refused, so
  ``HTTP_PROXY=http://127.0.0.1:…`` does not carry a request out;
* gRPC: a channel to a non-allowed target, and calls on a channel made before the block
  (C-core opens its own sockets, so the check is on the channel's target).

Loopback (``localhost``, ``localhost.``, ``127.0.0.0/8``, ``::1``, ``::ffff:127.0.0.1``,
the unspecified address) and Unix sockets stay allowed: fake servers and pytest-xdist work.
Child processes, C libraries and ctypes calls are out of reach of any in-process check:
``--isolate-network`` (``_isolate``) covers them at the OS level.

Here are the checks; ``_network_patches`` holds the patches that call them (installed once
and switched per test by ``_network_guard``), ``_network_rules`` the parsing they use.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pyagent_trace.exceptions import NetworkBlockedError
from pyagent_trace.http._background import Background, is_background_host
from pytest_pyagent_trace._network_guard import GUARD
from pytest_pyagent_trace._network_patches import ORIGINAL_LOOKUPS
from pytest_pyagent_trace._network_rules import grpc_target_hosts, is_ip, is_loopback, port_number, proxy_target

__all__ = [
    "NetworkBlocker",
    "early_block",
    "early_blocker",
    "end_early_block",
]

_INET = (socket.AF_INET, socket.AF_INET6)
_INSPECTED_SENDS = 3
"""How many first sends to a loopback peer are read for a proxy request (SOCKS5 sends a
greeting first)."""


class NetworkBlocker:
    """The block: ``active()`` switches its checks on, ``enabled`` lets everything through.

    ``describe`` gives the message tail (which test, how to record); ``allowed_hosts``
    are reachable besides loopback.
    """

    def __init__(
        self,
        describe: Callable[[], str],
        allowed_hosts: frozenset[str] = frozenset(),
        background: tuple[Background, ...] = (),
    ) -> None:
        self._describe = describe
        self._background = background
        self._allowed = frozenset(h.lower().rstrip(".") for h in allowed_hosts)
        self._allowed_ips: set[str] = {h.strip("[]") for h in self._allowed if is_ip(h.strip("[]"))}
        self._resolved_allowed = False
        self._lock = threading.Lock()
        self._peers: weakref.WeakKeyDictionary[Any, list[int]] = weakref.WeakKeyDictionary()
        self._refused_sockets: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        """Sockets a send was refused on: reading them raises the refusal again, because some
        clients (httpcore) swallow a failed write and wait for a response instead."""
        self.refused: list[str] = []
        self.enabled = True
        """Off while a test that records runs (it needs the real API)."""
        self.session_wide = False
        """Installed before conftest import for the whole session (``--block-network``)."""

    # -- decisions -------------------------------------------------------------------------
    def _allowed_host(self, host: str) -> bool:
        return not self.enabled or is_loopback(host) or host.lower().rstrip(".") in self._allowed

    def _allowed_ip(self, ip: str) -> bool:
        """An address: loopback, listed, or one an allowed name resolves to."""
        if self._allowed_host(ip) or ip in self._allowed_ips:
            return True
        if not self._resolved_allowed and len(self._allowed_ips) < len(self._allowed):
            self._resolved_allowed = True  # once: names allowed but resolved before the block
            for name in self._allowed - self._allowed_ips:
                with contextlib.suppress(OSError):
                    self._allowed_ips.update(str(a[4][0]) for a in ORIGINAL_LOOKUPS["getaddrinfo"](name, None))
        return ip in self._allowed_ips

    def take_refused(self) -> list[str]:
        """The connections refused since the last call (one test's worth)."""
        with self._lock:
            taken, self.refused = self.refused, []
        return taken

    def _refuse(self, host: str, port: Any = None, how: str = "") -> NetworkBlockedError:
        target = host if port is None else f"{host}:{port}"
        if not is_background_host(host, port if isinstance(port, int) else None, self._background):
            with self._lock:  # background traffic (telemetry, price maps) is not the test's own
                self.refused.append(target)
        msg = f"pyagent-trace blocked a network connection to {target}{how}. {self._describe()}"
        error = NetworkBlockedError(msg)
        error.strerror = msg  # what aiohttp's ClientConnectorError prints in its [brackets]
        return error

    # -- the checks the patches call -------------------------------------------------------
    def check_name(self, host: Any, port: Any) -> None:
        __tracebackhide__ = True  # pytest shows the caller's frame, not this patch
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        if not self._allowed_host(name) and name not in self._allowed_ips:
            raise self._refuse(name, port_number(port))

    def check_address(self, sock: Any, address: Any, how: str = "") -> None:
        __tracebackhide__ = True
        if self.enabled and sock.family in _INET and isinstance(address, tuple):
            host = str(address[0])
            if not self._allowed_ip(host):
                raise self._refuse(host, address[1], how)

    def check_send(self, sock: Any, data: Any) -> None:
        """A send on a connected socket: its peer, and what a loopback proxy is asked for."""
        __tracebackhide__ = True
        if not self.enabled:
            return
        seen = self._peers.get(sock)
        if seen is None:
            if sock.family not in _INET:
                seen = [_INSPECTED_SENDS]
            else:
                try:
                    peer = sock.getpeername()
                except OSError:
                    return  # not connected: the real call fails by itself
                host = str(peer[0])
                if not self._allowed_ip(host):
                    opened_before = " (a connection opened before the block, e.g. a keep-alive pool)"
                    raise self._refuse_socket(sock, host, peer[1], opened_before)
                inspect = is_loopback(host) and sock.type == socket.SOCK_STREAM
                seen = [0 if inspect else _INSPECTED_SENDS]
            with contextlib.suppress(TypeError):
                self._peers[sock] = seen
        if seen[0] < _INSPECTED_SENDS:
            seen[0] += 1
            head = bytes(memoryview(data)[:512]) if not isinstance(data, bytes) else data[:512]
            target = proxy_target(head)
            if target is not None and not self._allowed_ip(target):
                raise self._refuse_socket(sock, target, None, " through a proxy on loopback")

    def _refuse_socket(self, sock: Any, host: str, port: Any, how: str) -> NetworkBlockedError:
        error = self._refuse(host, port, how)
        with contextlib.suppress(TypeError):
            self._refused_sockets[sock] = str(error)
        return error

    def check_recv(self, sock: Any) -> None:
        """Reading a socket whose send was refused raises the refusal (not a timeout)."""
        __tracebackhide__ = True
        message = self._refused_sockets.get(sock) if self._refused_sockets else None
        if message is not None:
            error = NetworkBlockedError(message)
            error.strerror = message
            raise error

    def check_grpc(self, target: Any) -> None:
        __tracebackhide__ = True
        text = target.decode() if isinstance(target, bytes) else str(target)
        for host in grpc_target_hosts(text):
            if self.enabled and host is not None and not self._allowed_ip(host):
                raise self._refuse(text, None, " (a gRPC channel)")

    def note_lookup(self, host: Any, result: Any) -> None:
        """After a lookup of an allowed name: ``connect()`` to its addresses is allowed."""
        name = str(host or "").lower().rstrip(".")
        if name in self._allowed and not is_loopback(name):
            self._allowed_ips.update(str(entry[4][0]) for entry in result)

    # -- switching on ----------------------------------------------------------------------
    @contextlib.contextmanager
    def active(self) -> Iterator[NetworkBlocker]:
        """Switch the block on for the ``with`` body (the patches are installed once: see
        ``_network_guard``); what it learnt of sockets is forgotten after it."""
        GUARD.switch_on(self)
        try:
            yield self
        finally:
            GUARD.switch_off(self)
            if self._peers:
                self._peers = weakref.WeakKeyDictionary()
            if self._refused_sockets:
                self._refused_sockets = weakref.WeakKeyDictionary()


_EARLY = pytest.StashKey[tuple[NetworkBlocker, contextlib.ExitStack]]()


def early_block(config: pytest.Config, allowed_hosts: frozenset[str], background: tuple[Background, ...] = ()) -> None:
    """Block for the whole session from now on (before conftest import); tests that record
    turn it off while they run."""

    def describe() -> str:
        from pytest_pyagent_trace._context import STATE, blocked_hint

        state = config.stash.get(STATE, None)
        return blocked_hint(state) if state is not None else blocked_hint(None)

    blocker = NetworkBlocker(describe, allowed_hosts, background)
    blocker.session_wide = True
    stack = contextlib.ExitStack()
    stack.enter_context(blocker.active())
    config.stash[_EARLY] = (blocker, stack)


def early_blocker(config: pytest.Config) -> NetworkBlocker | None:
    found = config.stash.get(_EARLY, None)
    return None if found is None else found[0]


def end_early_block(config: pytest.Config) -> None:
    found = config.stash.get(_EARLY, None)
    if found is not None:
        del config.stash[_EARLY]
        found[1].close()
        GUARD.release()  # the originals are back even if the guard lingered
