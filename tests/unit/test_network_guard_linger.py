"""The network guard's patches are installed once and the block only switched on and off
while they linger; without lingering, or once released, every original is back exactly.

No test sends a packet: refused names never reach DNS, numeric ones resolve locally.
"""

from __future__ import annotations

import _socket
import socket
import ssl
import sys
import threading

import pytest

from pyagent_trace.exceptions import NetworkBlockedError
from pytest_pyagent_trace._network import NetworkBlocker
from pytest_pyagent_trace._network_guard import GUARD


def _originals() -> list[object]:
    """What the patches replace, as the classes and modules hold it (None: inherited), and
    whether the gRPC import hook is in place."""
    held = [getattr(module, name) for module in (socket, _socket) for name in ("getaddrinfo", "gethostbyname")]
    held += [_socket.socket, socket.socket.connect, ssl.SSLSocket.send, ssl.SSLSocket.read]
    held += [vars(cls).get(name) for cls in (socket.socket, ssl.SSLSocket) for name in ("connect", "recv")]
    return [*held, any(type(finder).__name__ == "_GrpcFinder" for finder in sys.meta_path)]


ORIGINALS = _originals()
ORIGINAL_CONNECT = socket.socket.connect
NUMERIC = "192.0.2.1"  # TEST-NET: refused while blocked, resolved locally (no DNS query) while not


@pytest.fixture(autouse=True)
def fresh_guard():
    GUARD.linger = False
    GUARD.release()
    yield
    GUARD.linger = False
    GUARD.release()


def _refused() -> bool:
    try:
        socket.getaddrinfo(NUMERIC, 443)
    except NetworkBlockedError:
        return True
    return False


def test_without_linger_each_block_installs_and_removes_the_patches():
    before = GUARD.installs
    for _ in range(3):
        with NetworkBlocker(lambda: "").active():
            assert socket.getaddrinfo is not ORIGINALS[0]
        assert _originals() == ORIGINALS
    assert GUARD.installs - before == 3


def test_lingering_patches_are_installed_once_for_consecutive_blocks_then_released():
    GUARD.linger = True
    blocker = NetworkBlocker(lambda: "")
    before = GUARD.installs
    for _ in range(3):  # three replaying tests in a row
        with blocker.active():
            assert _refused()
        assert not _refused()  # off between tests: the originals answer
    assert GUARD.installs - before == 1
    assert GUARD.installed
    assert socket.socket.connect is not ORIGINAL_CONNECT

    GUARD.release()

    assert not GUARD.installed
    assert _originals() == ORIGINALS
    assert socket.socket.connect is ORIGINAL_CONNECT


def test_release_leaves_a_block_that_is_on_in_place():
    """A session-wide block stays on through the plugin's release before unguarded tests."""
    with NetworkBlocker(lambda: "").active():
        GUARD.release()
        assert GUARD.installed
        assert _refused()
    assert _originals() == ORIGINALS


def test_an_inner_block_answers_until_it_switches_off_then_the_outer_one():
    outer = NetworkBlocker(lambda: "OUTER")
    inner = NetworkBlocker(lambda: "INNER", frozenset({NUMERIC}))
    with outer.active():
        with inner.active():
            assert not _refused()
        with pytest.raises(NetworkBlockedError, match="OUTER"):
            socket.getaddrinfo(NUMERIC, 443)
    assert _originals() == ORIGINALS


def test_switching_while_other_threads_connect_to_loopback_breaks_none_of_them():
    """Threads keep connecting to a local server while the block goes on and off."""
    GUARD.linger = True
    blocker = NetworkBlocker(lambda: "")
    errors: list[BaseException] = []
    made = [0, 0]
    done = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.listen(64)
        server.settimeout(5)
        address = server.getsockname()

        def connect_repeatedly(index: int) -> None:
            while not done.is_set():
                try:
                    with socket.create_connection(address, timeout=5) as sock:
                        sock.sendall(b"ping")
                    server.accept()[0].close()
                except BaseException as err:  # any failure is the finding
                    errors.append(err)
                    return
                made[index] += 1

        threads = [threading.Thread(target=connect_repeatedly, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        switches = 0
        try:
            while min(made) < 50 and not errors and switches < 200_000:
                with blocker.active():
                    switches += 1
        finally:
            done.set()
            for thread in threads:
                thread.join()
    assert errors == []
    assert min(made) >= 50
    assert blocker.take_refused() == []
