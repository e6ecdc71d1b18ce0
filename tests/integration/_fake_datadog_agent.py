"""A fake Datadog Agent on 127.0.0.1 for ddtrace: answers ``/info``, decodes ``/v0.4/traces``.

ddtrace sends msgpack; msgpack (the package) is not a dependency, so a small decoder of
the subset ddtrace writes lives here.
"""

from __future__ import annotations

import json
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeDatadogAgent", "unpackb"]

_FIXED = {0xC0: None, 0xC2: False, 0xC3: True}
_NUMBERS = {
    0xCA: ">f",
    0xCB: ">d",
    0xCC: ">B",
    0xCD: ">H",
    0xCE: ">I",
    0xCF: ">Q",
    0xD0: ">b",
    0xD1: ">h",
    0xD2: ">i",
    0xD3: ">q",
}
_SIZED = {
    0xC4: (">B", "bin"),
    0xC5: (">H", "bin"),
    0xC6: (">I", "bin"),
    0xD9: (">B", "str"),
    0xDA: (">H", "str"),
    0xDB: (">I", "str"),
    0xDC: (">H", "array"),
    0xDD: (">I", "array"),
    0xDE: (">H", "map"),
    0xDF: (">I", "map"),
}


def _read(data: bytes, pos: int) -> tuple[Any, int]:
    b = data[pos]
    pos += 1
    if b <= 0x7F:
        return b, pos
    if b >= 0xE0:
        return b - 0x100, pos
    if 0x80 <= b <= 0x8F:
        return _container("map", b & 0x0F, data, pos)
    if 0x90 <= b <= 0x9F:
        return _container("array", b & 0x0F, data, pos)
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        return data[pos : pos + n].decode(), pos + n
    if b in _FIXED:
        return _FIXED[b], pos
    if b in _NUMBERS:
        fmt = _NUMBERS[b]
        return struct.unpack_from(fmt, data, pos)[0], pos + struct.calcsize(fmt)
    if b in _SIZED:
        fmt, kind = _SIZED[b]
        n = struct.unpack_from(fmt, data, pos)[0]
        pos += struct.calcsize(fmt)
        if kind in ("array", "map"):
            return _container(kind, n, data, pos)
        raw = data[pos : pos + n]
        return (raw.decode() if kind == "str" else raw), pos + n
    raise ValueError(f"msgpack type byte 0x{b:02x} at offset {pos - 1} is not supported by this decoder")


def _container(kind: str, n: int, data: bytes, pos: int) -> tuple[Any, int]:
    if kind == "array":
        items = []
        for _ in range(n):
            item, pos = _read(data, pos)
            items.append(item)
        return items, pos
    mapping = {}
    for _ in range(n):
        key, pos = _read(data, pos)
        mapping[key], pos = _read(data, pos)
    return mapping, pos


def unpackb(data: bytes) -> Any:
    value, _ = _read(data, 0)
    return value


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        if self.path.endswith("/traces") and body:
            traces = unpackb(body)
            with self.server.cond:
                self.server.spans.extend(span for trace in traces for span in trace)
                self.server.cond.notify_all()
        info = {"endpoints": ["/v0.4/traces"], "version": "7.99.0"} if self.path == "/info" else {}
        payload = json.dumps(info).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[dict[str, Any]] = []
        self.cond = threading.Condition()


class FakeDatadogAgent:
    """``with FakeDatadogAgent() as agent:`` then ``DD_TRACE_AGENT_URL=agent.url``."""

    def __init__(self) -> None:
        self._server = _Server()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeDatadogAgent:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def wait_for_spans(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        with self._server.cond:
            done = self._server.cond.wait_for(lambda: len(self._server.spans) >= count, timeout)
            spans = list(self._server.spans)
        assert done, f"expected {count} spans, the fake agent got {len(spans)}"
        return spans
