"""Refuse outbound network connections while replaying, so no test can reach a paid API.

Host names are refused at resolution (so the error names the host the code asked for);
IP addresses at ``connect``. Loopback and Unix sockets stay allowed: fake servers on
127.0.0.1 and pytest-xdist keep working.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pyagent_trace.exceptions import NetworkBlockedError
from pyagent_trace.http._background import Background, is_background_host, is_loopback

__all__ = ["NetworkBlocker", "is_loopback"]


def _port(port: Any) -> Any:
    """getaddrinfo's port (an int, a numeric string, a service name or None) as an int if it is one."""
    text = port.decode() if isinstance(port, bytes) else str(port)
    return int(text) if text.isdigit() else port


class NetworkBlocker:
    """Patches ``socket.getaddrinfo`` and ``socket.socket.connect``/``connect_ex``.

    ``describe`` gives the message tail (which test, how to record); ``allowed_hosts``
    are reachable besides loopback. Background traffic (``http._background``, and the
    ``background`` rules of the ini) is refused too, but not reported as the test's own.
    """

    def __init__(
        self,
        describe: Callable[[], str],
        allowed_hosts: frozenset[str] = frozenset(),
        background: tuple[Background, ...] = (),
    ) -> None:
        self._describe = describe
        self._allowed = frozenset(h.lower() for h in allowed_hosts)
        self._background = background
        self._lock = threading.Lock()
        self.refused: list[str] = []
        self.enabled = True
        """Off while a test that records runs (it needs the real API)."""

    def _allowed_host(self, host: str) -> bool:
        return not self.enabled or is_loopback(host) or host.lower() in self._allowed

    def take_refused(self) -> list[str]:
        """The connections refused since the last call (one test's worth)."""
        with self._lock:
            taken, self.refused = self.refused, []
        return taken

    def _refuse(self, host: str, port: Any) -> NetworkBlockedError:
        target = f"{host}:{port}"
        if not is_background_host(host, port if isinstance(port, int) else None, self._background):
            with self._lock:
                self.refused.append(target)
        msg = f"pyagent-trace blocked a network connection to {target}. {self._describe()}"
        return NetworkBlockedError(msg)

    @contextlib.contextmanager
    def active(self) -> Iterator[NetworkBlocker]:
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        blocker = self

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # pytest shows the caller's frame, not this patch
            name = host.decode() if isinstance(host, bytes) else str(host or "")
            if not blocker._allowed_host(name):
                raise blocker._refuse(name, _port(port))
            return real_getaddrinfo(host, port, *args, **kwargs)

        def check(sock: socket.socket, address: Any) -> None:
            __tracebackhide__ = True
            if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
                host = str(address[0])
                if not blocker._allowed_host(host):
                    raise blocker._refuse(host, address[1])

        def connect(sock: socket.socket, address: Any) -> None:
            __tracebackhide__ = True
            check(sock, address)
            real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            __tracebackhide__ = True
            check(sock, address)
            return real_connect_ex(sock, address)

        socket.getaddrinfo = getaddrinfo
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            socket.getaddrinfo = real_getaddrinfo
            socket.socket.connect = real_connect  # type: ignore[method-assign]
            socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
