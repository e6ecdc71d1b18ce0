"""The in-process network block against each way Python code can reach another host, and
the loopback spellings it must let through.

No vector sends a packet: each is refused before the system call. Non-loopback targets are
TEST-NET / non-routable addresses or names that are never looked up.
"""

from __future__ import annotations

import _socket
import asyncio
import contextlib
import re
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from pyagent_trace.exceptions import NetworkBlockedError
from pytest_pyagent_trace._network import NetworkBlocker
from pytest_pyagent_trace._network_rules import grpc_target_host, is_loopback, proxy_target

FAR = "10.255.255.1"  # non-routable: even a guard that failed would send nothing useful


@pytest.fixture
def blocker() -> Iterator[NetworkBlocker]:
    guard = NetworkBlocker(lambda: "HINT", frozenset({"allowed.example"}))
    with guard.active():
        yield guard


@contextlib.contextmanager
def listener(host: str = "127.0.0.1", family: int = socket.AF_INET) -> Iterator[socket.socket]:
    """A server that accepts connections and keeps them (never answers)."""
    server = socket.create_server((host, 0), family=family, dualstack_ipv6=family == socket.AF_INET6)
    server.settimeout(0.02)
    kept: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                kept.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join()
        server.close()
        for conn in kept:
            conn.close()


def _udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def on(make: Callable[[], object], action: Callable[[object], object]) -> Callable[[], object]:
    """``action(sock)`` on a fresh socket, closed afterwards (no ResourceWarning)."""

    def attempt() -> object:
        sock = make()
        try:
            return action(sock)
        finally:
            sock.close()  # type: ignore[attr-defined]

    return attempt


def _through_proxy(request: bytes) -> Callable[[], object]:
    def send() -> None:
        with listener() as proxy, socket.create_connection(proxy.getsockname()) as sock:
            sock.sendall(request)

    return send


def _socks5() -> None:
    with listener() as proxy, socket.create_connection(proxy.getsockname()) as sock:
        sock.sendall(b"\x05\x01\x00")  # greeting
        sock.sendall(b"\x05\x01\x00\x03\x0eapi.openai.com\x01\xbb")


REFUSED: dict[str, Callable[[], object]] = {
    "getaddrinfo": lambda: socket.getaddrinfo("api.openai.com", 443),
    "gethostbyname": lambda: socket.gethostbyname("api.openai.com"),
    "gethostbyname_ex": lambda: socket.gethostbyname_ex("api.openai.com"),
    "gethostbyaddr": lambda: socket.gethostbyaddr(FAR),
    "_socket.getaddrinfo": lambda: _socket.getaddrinfo("api.openai.com", 443),
    "_socket.gethostbyname": lambda: _socket.gethostbyname("api.openai.com"),
    "create_connection name": lambda: socket.create_connection(("api.openai.com", 443), timeout=1),
    "create_connection ip": lambda: socket.create_connection((FAR, 80), timeout=1),
    "connect": on(socket.socket, lambda s: s.connect((FAR, 80))),
    "connect_ex": on(socket.socket, lambda s: s.connect_ex((FAR, 80))),
    "connect ipv6": on(lambda: socket.socket(socket.AF_INET6), lambda s: s.connect(("2001:db8::1", 80))),
    "_socket.socket connect": on(lambda: _socket.socket(), lambda s: s.connect((FAR, 80))),
    "_socket.socket sendto": on(
        lambda: _socket.socket(socket.AF_INET, socket.SOCK_DGRAM), lambda s: s.sendto(b"x", (FAR, 53))
    ),
    "udp sendto": on(_udp, lambda s: s.sendto(b"x", (FAR, 53))),
    "udp sendto flags": on(_udp, lambda s: s.sendto(b"x", 0, (FAR, 53))),
    "udp sendmsg": on(_udp, lambda s: s.sendmsg([b"x"], [], 0, (FAR, 53))),
    "udp connect": on(_udp, lambda s: s.connect((FAR, 53))),
    "tcp MSG_FASTOPEN": on(socket.socket, lambda s: s.sendto(b"GET /", socket.MSG_FASTOPEN, (FAR, 80))),
    "http proxy CONNECT": _through_proxy(b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n"),
    "http proxy absolute-form": _through_proxy(b"GET http://api.openai.com/v1/models HTTP/1.1\r\n\r\n"),
    "socks5 proxy": _socks5,
    "asyncio open_connection": lambda: asyncio.run(asyncio.open_connection(FAR, 80)),
}


@pytest.mark.parametrize("attempt", REFUSED.values(), ids=REFUSED.keys())
def test_each_way_out_is_refused_with_the_block_message(blocker, attempt):
    with pytest.raises(NetworkBlockedError, match=r"pyagent-trace blocked a network connection to .*HINT"):
        attempt()
    assert blocker.take_refused()


ALLOWED: dict[str, tuple[str, int]] = {
    "127.0.0.1": ("127.0.0.1", socket.AF_INET),
    "localhost": ("localhost", socket.AF_INET),
    "::ffff:127.0.0.1": ("::ffff:127.0.0.1", socket.AF_INET6),
    "::1": ("::1", socket.AF_INET6),
}


@pytest.mark.parametrize(("host", "family"), ALLOWED.values(), ids=ALLOWED.keys())
def test_loopback_in_every_spelling_stays_reachable(blocker, host, family):
    server_host = "::" if family == socket.AF_INET6 else "127.0.0.1"
    with listener(server_host, family) as server:
        port = server.getsockname()[1]
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert blocker.take_refused() == []


@pytest.mark.parametrize("name", ["localhost.", "LOCALHOST", "api.localhost", "allowed.example", "allowed.example."])
def test_loopback_and_allowed_names_are_not_refused(blocker, name):
    """``localhost.`` was refused; the OS resolver gets it now (the check alone: no lookup sent)."""
    blocker.check_name(name, 80)
    assert blocker.take_refused() == []


def test_is_loopback_spellings():
    assert all(map(is_loopback, ["localhost.", "LOCALHOST", "::ffff:127.0.0.1", "[::1]", "127.8.0.1", "a.localhost."]))
    assert not any(map(is_loopback, ["10.0.0.1", "::ffff:10.0.0.1", "example.com", "localhost.example.com"]))


def test_unix_sockets_and_socketpairs_stay_allowed(blocker):
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n")  # not a TCP peer: nothing to check
        assert right.recv(100)


def _own_address() -> str:
    """This machine's non-loopback address (a UDP connect sends nothing), or skip."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))
        except OSError:
            pytest.skip("no non-loopback interface")
        address = str(probe.getsockname()[0])
    if is_loopback(address):
        pytest.skip("no non-loopback interface")
    return address


def test_a_keep_alive_connection_opened_before_the_block_carries_no_request():
    """An httpx client made at import time (a conftest) keeps its pooled connection: the
    socket's peer is checked at each send, so the next request is refused, not sent."""
    httpx = pytest.importorskip("httpx")
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Ok(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((_own_address(), 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://{}:{}/".format(*server.server_address)
    guard = NetworkBlocker(lambda: "HINT")
    try:
        with httpx.Client(trust_env=False) as client:
            assert client.get(url).text == "ok"  # before the block: the pool keeps the connection
            with guard.active(), pytest.raises(httpx.HTTPError, match="opened before the block"):
                client.get(url)
    finally:
        server.shutdown()
        server.server_close()


def test_requests_and_httpx_through_a_loopback_proxy_are_refused(blocker, monkeypatch):
    """HTTP_PROXY on 127.0.0.1 does not carry a request to a real host out."""
    httpx = pytest.importorskip("httpx")
    requests = pytest.importorskip("requests")
    with listener() as proxy:
        url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with pytest.raises(requests.RequestException, match=r"blocked a network connection to api\.openai\.com"):
            requests.get("https://api.openai.com/v1/models", timeout=5)
        with httpx.Client() as client, pytest.raises(httpx.HTTPError, match=r"connection to api\.openai\.com"):
            client.get("http://api.openai.com/v1/models", timeout=5)


def test_aiohttp_keeps_the_block_message(blocker):
    aiohttp = pytest.importorskip("aiohttp")

    async def get() -> None:
        async with aiohttp.ClientSession() as session:
            await session.get("https://api.openai.com/v1/models")

    with pytest.raises(aiohttp.ClientError) as info:
        asyncio.run(get())
    assert "pyagent-trace blocked a network connection to api.openai.com:443" in str(info.value)


def test_grpc_channels_to_other_hosts_are_refused_new_or_made_before_the_block():
    """C-core opens its own sockets: the channel's target is what is checked."""
    grpc = pytest.importorskip("grpc")
    before = grpc.insecure_channel(f"{FAR}:4317")  # lazy: no connection until a call
    guard = NetworkBlocker(lambda: "HINT")
    try:
        with guard.active():
            with pytest.raises(NetworkBlockedError, match=r"api\.openai\.com:443"):
                grpc.insecure_channel("dns:///api.openai.com:443")
            with pytest.raises(NetworkBlockedError, match=re.escape(f"{FAR}:4317")):
                before.unary_unary("/svc/Method")(b"", timeout=1)
            with pytest.raises(NetworkBlockedError, match=r"api\.anthropic\.com"):
                grpc.aio.insecure_channel("api.anthropic.com:443")
            with pytest.raises(NetworkBlockedError, match="a gRPC channel"):
                grpc.insecure_channel(f"ipv4:127.0.0.1:4317,{FAR}:4317")
            grpc.insecure_channel("localhost:4317").close()
    finally:
        before.close()


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("localhost:4317", "localhost"),
        ("dns:///api.x.com:443", "api.x.com"),
        ("dns://8.8.8.8/h.com:1", "h.com"),
        ("ipv6:[::1]:5", "::1"),
        ("[2001:db8::1]:4317", "2001:db8::1"),
        ("unix:/tmp/sock", None),
    ],
)
def test_grpc_target_host(target, host):
    assert grpc_target_host(target) == host


def test_proxy_target_reads_http_and_socks_requests():
    assert proxy_target(b"CONNECT a.example:443 HTTP/1.1\r\n") == "a.example"
    assert proxy_target(b"GET https://[2001:db8::1]:8/ HTTP/1.1") == "[2001:db8::1]"
    assert proxy_target(b"\x04\x01\x00\x50\x0a\x00\x00\x01\x00") == "10.0.0.1"
    assert proxy_target(b"GET /v1/models HTTP/1.1\r\n") is None
    assert proxy_target(b"HTTP/1.1 200 OK\r\n") is None


def test_everything_is_put_back_after_the_block():
    names = ("getaddrinfo", "gethostbyname", "gethostbyname_ex")
    before = [getattr(socket, n) for n in names] + [_socket.socket, vars(socket.socket).get("connect")]
    with NetworkBlocker(lambda: "").active():
        pass
    assert [getattr(socket, n) for n in names] + [_socket.socket, vars(socket.socket).get("connect")] == before


def test_isolation_says_in_one_line_when_the_platform_cannot(monkeypatch):
    from pytest_pyagent_trace import _isolate

    monkeypatch.setattr(_isolate, "isolated", lambda: False)
    monkeypatch.delenv("PYAGENT_TRACE_ISOLATED", raising=False)
    monkeypatch.setattr(_isolate.sys, "platform", "darwin")
    assert _isolate.isolate([]).startswith("--isolate-network needs Linux network namespaces; this platform is darwin.")
    monkeypatch.setattr(_isolate.sys, "platform", "linux")
    assert "not from pytest.main()" in _isolate.isolate(["--not-the-command-line"])
