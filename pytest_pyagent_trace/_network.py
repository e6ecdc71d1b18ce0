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
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import _socket
import contextlib
import importlib.abc
import importlib.machinery
import socket
import ssl
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, ClassVar

import pytest

from pyagent_trace.exceptions import NetworkBlockedError
from pyagent_trace.http._background import Background, is_background_host
from pytest_pyagent_trace._network_rules import (
    grpc_target_host,
    grpc_target_hosts,
    is_ip,
    is_loopback,
    port_number,
    proxy_target,
)

__all__ = [
    "NetworkBlocker",
    "early_block",
    "early_blocker",
    "end_early_block",
    "grpc_target_host",
    "is_loopback",
    "proxy_target",
]

_INET = (socket.AF_INET, socket.AF_INET6)
_INSPECTED_SENDS = 3
"""How many first sends to a loopback peer are read for a proxy request (SOCKS5 sends a
greeting first)."""


class _Patches:
    """Attributes replaced while the block is on, put back exactly (inherited ones deleted)."""

    _MISSING = object()

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, vars(owner).get(name, self._MISSING)))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._saved:
            owner, name, old = self._saved.pop()
            if old is self._MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)


class NetworkBlocker:
    """The block: ``active()`` installs the checks, ``enabled`` turns them on and off.

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
                    self._allowed_ips.update(str(a[4][0]) for a in _REAL["getaddrinfo"](name, None))
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

    # -- installing ------------------------------------------------------------------------
    @contextlib.contextmanager
    def active(self) -> Iterator[NetworkBlocker]:
        global _ACTIVE  # the raw-socket class and the gRPC hook find the blocker here
        patches = _Patches()
        finder = _GrpcFinder(self, patches)
        previous, _ACTIVE = _ACTIVE, self
        try:
            _install(self, patches)
            sys.meta_path.insert(0, finder)
            yield self
        finally:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(finder)
            patches.restore()
            self._peers = weakref.WeakKeyDictionary()
            self._refused_sockets = weakref.WeakKeyDictionary()
            _ACTIVE = previous


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


_ACTIVE: NetworkBlocker | None = None
_REAL: dict[str, Any] = {
    name: getattr(_socket, name) for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr")
}
_RealRawSocket: type[Any] = _socket.socket


class _GuardedRawSocket(_RealRawSocket):  # type: ignore[misc]
    """What ``_socket.socket(...)`` makes while the block is on (its C methods are fixed)."""

    def connect(self, address: Any) -> None:
        __tracebackhide__ = True
        _check_address(self, address)
        super().connect(address)

    def connect_ex(self, address: Any) -> int:
        __tracebackhide__ = True
        _check_address(self, address)
        return int(super().connect_ex(address))

    def sendto(self, data: Any, *args: Any) -> int:
        __tracebackhide__ = True
        _check_address(self, args[-1] if args else None)
        return int(super().sendto(data, *args))

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        __tracebackhide__ = True
        _check_sendmsg(self, buffers, args)
        return int(super().sendmsg(buffers, *args))

    def send(self, data: Any, *args: Any) -> int:
        __tracebackhide__ = True
        _check_send(self, data)
        return int(super().send(data, *args))

    def sendall(self, data: Any, *args: Any) -> None:
        __tracebackhide__ = True
        _check_send(self, data)
        super().sendall(data, *args)


def _check_address(sock: Any, address: Any) -> None:
    __tracebackhide__ = True
    if _ACTIVE is not None:
        _ACTIVE.check_address(sock, address)


def _check_send(sock: Any, data: Any) -> None:
    __tracebackhide__ = True
    if _ACTIVE is not None:
        _ACTIVE.check_send(sock, data)


def _check_sendmsg(sock: Any, buffers: Any, args: Sequence[Any]) -> None:
    """``sendmsg(buffers[, ancdata[, flags[, address]]])``: to an address, or on a connection."""
    __tracebackhide__ = True
    if len(args) >= 3 and args[2] is not None:
        _check_address(sock, args[2])
    else:
        first = next(iter(buffers), b"")
        _check_send(sock, first)


def _install(blocker: NetworkBlocker, patches: _Patches) -> None:
    for name, real in _REAL.items():
        port_at = 1 if name == "getaddrinfo" else None
        checked = _lookup(blocker, real, port_at)
        patches.set(_socket, name, checked)
        patches.set(socket, name, checked)
    patches.set(_socket, "socket", _GuardedRawSocket)
    for cls in (socket.socket, ssl.SSLSocket):
        _patch_socket_class(cls, patches)
    grpc_channel = sys.modules.get("grpc._channel")
    if grpc_channel is not None:
        _patch_grpc(grpc_channel, patches)
    grpc_aio = sys.modules.get("grpc.aio._channel")
    if grpc_aio is not None:
        _patch_grpc_channel(grpc_aio, patches)


def _lookup(blocker: NetworkBlocker, real: Callable[..., Any], port_at: int | None) -> Callable[..., Any]:
    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        port = (args[0] if args else kwargs.get("port")) if port_at else None
        blocker.check_name(host, port)
        result = real(host, *args, **kwargs)
        name = str(host or "").lower().rstrip(".")
        if port_at and name in blocker._allowed and not is_loopback(name):
            blocker._allowed_ips.update(str(entry[4][0]) for entry in result)  # connect() to them is allowed
        return result

    lookup.__name__ = real.__name__
    return lookup


def _patch_socket_class(cls: type[Any], patches: _Patches) -> None:
    real = {name: getattr(cls, name) for name in ("connect", "connect_ex", "sendto", "sendmsg", "send", "sendall")}
    real_sendfile = cls.sendfile

    def connect(sock: Any, address: Any) -> Any:
        __tracebackhide__ = True
        _check_address(sock, address)
        return real["connect"](sock, address)

    def connect_ex(sock: Any, address: Any) -> Any:
        __tracebackhide__ = True
        _check_address(sock, address)
        return real["connect_ex"](sock, address)

    def sendto(sock: Any, data: Any, *args: Any) -> Any:
        __tracebackhide__ = True
        _check_address(sock, args[-1] if args else None)
        return real["sendto"](sock, data, *args)

    def sendmsg(sock: Any, buffers: Any, *args: Any) -> Any:
        __tracebackhide__ = True
        _check_sendmsg(sock, buffers, args)
        return real["sendmsg"](sock, buffers, *args)

    def send(sock: Any, data: Any, *args: Any) -> Any:
        __tracebackhide__ = True
        _check_send(sock, data)
        return real["send"](sock, data, *args)

    def sendall(sock: Any, data: Any, *args: Any) -> Any:
        __tracebackhide__ = True
        _check_send(sock, data)
        return real["sendall"](sock, data, *args)

    def sendfile(sock: Any, file: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        _check_send(sock, b"")
        return real_sendfile(sock, file, *args, **kwargs)

    for fn in (connect, connect_ex, sendto, sendmsg, send, sendall, sendfile):
        patches.set(cls, fn.__name__, fn)
    for name in ("recv", "recv_into", *(("read",) if cls is ssl.SSLSocket else ())):
        patches.set(cls, name, _recv(getattr(cls, name)))


def _recv(real: Callable[..., Any]) -> Callable[..., Any]:
    def recv(sock: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if _ACTIVE is not None:
            _ACTIVE.check_recv(sock)
        return real(sock, *args, **kwargs)

    recv.__name__ = real.__name__
    return recv


def _patch_grpc_channel(module: ModuleType, patches: _Patches) -> None:
    """A new channel (``grpc._channel`` or ``grpc.aio._channel``) to a non-allowed target."""
    channel = module.Channel
    real_init = channel.__init__

    def init(self: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True
        if _ACTIVE is not None:
            _ACTIVE.check_grpc(target)
        real_init(self, target, *args, **kwargs)

    patches.set(channel, "__init__", init)


def _patch_grpc(module: ModuleType, patches: _Patches) -> None:
    """New channels to a non-allowed target, and calls on channels made before the block."""
    _patch_grpc_channel(module, patches)
    for class_name in (
        "_UnaryUnaryMultiCallable",
        "_SingleThreadedUnaryStreamMultiCallable",
        "_UnaryStreamMultiCallable",
        "_StreamUnaryMultiCallable",
        "_StreamStreamMultiCallable",
    ):
        cls = getattr(module, class_name, None)
        for method in ("__call__", "with_call", "future"):
            if cls is not None and method in vars(cls):
                patches.set(cls, method, _grpc_call(vars(cls)[method]))


def _grpc_call(real: Callable[..., Any]) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if _ACTIVE is not None:
            _ACTIVE.check_grpc(getattr(self, "_target", b"") or b"")
        return real(self, *args, **kwargs)

    return call


class _GrpcFinder(importlib.abc.MetaPathFinder):
    """Patches gRPC's channel modules when they are imported while the block is on."""

    _PATCHERS: ClassVar[dict[str, Callable[[ModuleType, _Patches], None]]] = {
        "grpc._channel": _patch_grpc,
        "grpc.aio._channel": _patch_grpc_channel,
    }

    def __init__(self, blocker: NetworkBlocker, patches: _Patches) -> None:
        self._blocker = blocker
        self._patches = patches

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        patcher = self._PATCHERS.get(fullname)
        if patcher is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        real_exec = loader.exec_module
        patches = self._patches

        def exec_module(module: ModuleType) -> None:
            real_exec(module)
            patcher(module, patches)

        loader.exec_module = exec_module
        return spec
