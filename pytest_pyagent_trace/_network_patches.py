"""The network guard's patches: what they replace in ``socket``, ``_socket``, ``ssl`` and
gRPC, and how each asks the checks switched on now.

Every patch reads ``_ACTIVE`` once per call; when it is None (no blocker on), the patch
calls the original at once. So the set can stay installed while guarded tests follow one
another (``_network_guard`` installs it once and switches the checks per test), and
removing it puts every original back exactly (inherited attributes are deleted again).
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
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, ClassVar, Protocol

__all__ = ["ORIGINAL_LOOKUPS", "Checks", "PatchSet", "install", "switch"]


class Checks(Protocol):
    """What the patches ask before calling an original (``NetworkBlocker`` answers)."""

    def check_name(self, host: Any, port: Any) -> None: ...
    def note_lookup(self, host: Any, result: Any) -> None: ...
    def check_address(self, sock: Any, address: Any, how: str = "") -> None: ...
    def check_send(self, sock: Any, data: Any) -> None: ...
    def check_recv(self, sock: Any) -> None: ...
    def check_grpc(self, target: Any) -> None: ...


_ACTIVE: Checks | None = None


def switch(checks: Checks | None) -> None:
    """What the installed patches check with from now on (None: the originals answer).

    One assignment: a thread in the middle of a patched call finishes with what it read."""
    global _ACTIVE
    _ACTIVE = checks


ORIGINAL_LOOKUPS: dict[str, Any] = {
    name: getattr(_socket, name) for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr")
}
_RealRawSocket: type[Any] = _socket.socket
_MISSING = object()


class PatchSet:
    """Attributes replaced, put back exactly by ``restore`` (inherited ones deleted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved: list[tuple[Any, str, Any]] = []
        self._finders: list[importlib.abc.MetaPathFinder] = []
        self._restored = False

    def set(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, vars(owner).get(name, _MISSING)))
        setattr(owner, name, value)

    def add_finder(self, finder: importlib.abc.MetaPathFinder) -> None:
        self._finders.append(finder)
        sys.meta_path.insert(0, finder)

    def add_late(self, patcher: Callable[[ModuleType, PatchSet], None], module: ModuleType) -> None:
        """Patches for a module imported while the set is installed: a gRPC import in
        another thread may finish while the set is being restored (then it patches nothing)."""
        with self._lock:
            if not self._restored:
                patcher(module, self)

    def restore(self) -> None:
        with self._lock:
            self._restored = True
            for finder in self._finders:
                with contextlib.suppress(ValueError):
                    sys.meta_path.remove(finder)
            while self._saved:
                owner, name, old = self._saved.pop()
                if old is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, old)


def install(patches: PatchSet) -> None:
    """The whole set, and an import hook that patches gRPC if it is imported later."""
    for name, real in ORIGINAL_LOOKUPS.items():
        checked = _lookup(real, port_at=1 if name == "getaddrinfo" else None)
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
    patches.add_finder(_GrpcFinder(patches))


class _GuardedRawSocket(_RealRawSocket):  # type: ignore[misc]
    """What ``_socket.socket(...)`` makes while the patches are installed (its C methods are fixed)."""

    def connect(self, address: Any) -> None:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_address(self, address)
        super().connect(address)

    def connect_ex(self, address: Any) -> int:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_address(self, address)
        return int(super().connect_ex(address))

    def sendto(self, data: Any, *args: Any) -> int:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_address(self, args[-1] if args else None)
        return int(super().sendto(data, *args))

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            _check_sendmsg(checks, self, buffers, args)
        return int(super().sendmsg(buffers, *args))

    def send(self, data: Any, *args: Any) -> int:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_send(self, data)
        return int(super().send(data, *args))

    def sendall(self, data: Any, *args: Any) -> None:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_send(self, data)
        super().sendall(data, *args)


def _check_sendmsg(checks: Checks, sock: Any, buffers: Any, args: Sequence[Any]) -> None:
    """``sendmsg(buffers[, ancdata[, flags[, address]]])``: to an address, or on a connection."""
    __tracebackhide__ = True
    if len(args) >= 3 and args[2] is not None:
        checks.check_address(sock, args[2])
    else:
        first = next(iter(buffers), b"")
        checks.check_send(sock, first)


def _lookup(real: Callable[..., Any], port_at: int | None) -> Callable[..., Any]:
    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        checks = _ACTIVE
        if checks is None:
            return real(host, *args, **kwargs)
        port = (args[0] if args else kwargs.get("port")) if port_at else None
        checks.check_name(host, port)
        result = real(host, *args, **kwargs)
        if port_at:
            checks.note_lookup(host, result)
        return result

    lookup.__name__ = real.__name__
    return lookup


def _patch_socket_class(cls: type[Any], patches: PatchSet) -> None:
    real = {name: getattr(cls, name) for name in ("connect", "connect_ex", "sendto", "sendmsg", "send", "sendall")}
    real_sendfile = cls.sendfile

    def connect(sock: Any, address: Any) -> Any:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_address(sock, address)
        return real["connect"](sock, address)

    def connect_ex(sock: Any, address: Any) -> Any:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_address(sock, address)
        return real["connect_ex"](sock, address)

    def sendto(sock: Any, data: Any, *args: Any) -> Any:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_address(sock, args[-1] if args else None)
        return real["sendto"](sock, data, *args)

    def sendmsg(sock: Any, buffers: Any, *args: Any) -> Any:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            _check_sendmsg(checks, sock, buffers, args)
        return real["sendmsg"](sock, buffers, *args)

    def send(sock: Any, data: Any, *args: Any) -> Any:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_send(sock, data)
        return real["send"](sock, data, *args)

    def sendall(sock: Any, data: Any, *args: Any) -> Any:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_send(sock, data)
        return real["sendall"](sock, data, *args)

    def sendfile(sock: Any, file: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_send(sock, b"")
        return real_sendfile(sock, file, *args, **kwargs)

    for fn in (connect, connect_ex, sendto, sendmsg, send, sendall, sendfile):
        patches.set(cls, fn.__name__, fn)
    for name in ("recv", "recv_into", *(("read",) if cls is ssl.SSLSocket else ())):
        patches.set(cls, name, _recv(getattr(cls, name)))


def _recv(real: Callable[..., Any]) -> Callable[..., Any]:
    def recv(sock: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_recv(sock)
        return real(sock, *args, **kwargs)

    recv.__name__ = real.__name__
    return recv


def _patch_grpc_channel(module: ModuleType, patches: PatchSet) -> None:
    """A new channel (``grpc._channel`` or ``grpc.aio._channel``) to a non-allowed target."""
    channel = module.Channel
    real_init = channel.__init__

    def init(self: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True
        if (checks := _ACTIVE) is not None:
            checks.check_grpc(target)
        real_init(self, target, *args, **kwargs)

    patches.set(channel, "__init__", init)


def _patch_grpc(module: ModuleType, patches: PatchSet) -> None:
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
        if (checks := _ACTIVE) is not None:
            checks.check_grpc(getattr(self, "_target", b"") or b"")
        return real(self, *args, **kwargs)

    return call


class _GrpcFinder(importlib.abc.MetaPathFinder):
    """Patches gRPC's channel modules when they are imported while the set is installed."""

    _PATCHERS: ClassVar[dict[str, Callable[[ModuleType, PatchSet], None]]] = {
        "grpc._channel": _patch_grpc,
        "grpc.aio._channel": _patch_grpc_channel,
    }

    def __init__(self, patches: PatchSet) -> None:
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
            patches.add_late(patcher, module)

        loader.exec_module = exec_module
        return spec
