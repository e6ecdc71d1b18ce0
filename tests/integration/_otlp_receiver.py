"""Fake OTLP backends on 127.0.0.1: decode what exporters send, or misbehave on purpose.

``OtlpHttpReceiver`` answers OTLP/HTTP (protobuf, gzip or not) at any path, so it also
plays Langfuse (``/api/public/otel/v1/traces``) and the Datadog Agent's OTLP intake.
``mode="fail"`` answers 500, ``mode="hang"`` accepts and never answers until closed.
``OtlpGrpcReceiver`` is the gRPC twin (Tempo's port 4317). Waiting is done on a
Condition, never by sleeping.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1 import trace_pb2

__all__ = ["OtlpGrpcReceiver", "OtlpHttpReceiver", "Received", "decode_request", "span_tree"]


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return None if kind is None else getattr(value, kind)


def _attrs(items) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in items}


def decode_request(request: trace_service_pb2.ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """Every span of an export request as a plain dict (ids in hex, kind/status by name)."""
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attrs(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    {
                        "name": span.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex() or None,
                        "kind": trace_pb2.Span.SpanKind.Name(span.kind),
                        "start": span.start_time_unix_nano,
                        "end": span.end_time_unix_nano,
                        "attributes": _attrs(span.attributes),
                        "status": trace_pb2.Status.StatusCode.Name(span.status.code),
                        "status_message": span.status.message,
                        "events": [{"name": e.name, "attributes": _attrs(e.attributes)} for e in span.events],
                        "resource": resource,
                        "scope": scope_spans.scope.name,
                    }
                )
    return spans


def span_tree(spans: list[dict[str, Any]]) -> dict[str, list[str]]:
    """``{parent name: sorted child names}`` with roots under ``""``, to assert a tree at once."""
    names = {s["span_id"]: s["name"] for s in spans}
    tree: dict[str, list[str]] = {}
    for span in spans:
        tree.setdefault(names.get(span["parent_span_id"] or "", ""), []).append(span["name"])
    return {parent: sorted(children) for parent, children in tree.items()}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    spans: list[dict[str, Any]] = field(default_factory=list)


class _Collector:
    """What a fake backend got, with a Condition to wait on."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._cond = threading.Condition()
        self.release = threading.Event()
        """Set on close: hanging requests give up and the connection drops."""
        self.hanging = threading.Event()
        """Set once a request is being held (mode "hang")."""

    def add(self, received: Received) -> None:
        with self._cond:
            self.requests.append(received)
            self._cond.notify_all()

    @property
    def spans(self) -> list[dict[str, Any]]:
        with self._cond:
            return [span for request in self.requests for span in request.spans]

    def wait_for_spans(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        with self._cond:
            done = self._cond.wait_for(lambda: len(self.spans) >= count, timeout)
        spans = self.spans
        assert done, f"expected {count} spans, the receiver got {len(spans)}: {[s['name'] for s in spans]}"
        return spans


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        collector = self.server.collector
        if self.server.mode == "hang":
            collector.hanging.set()
            collector.release.wait()
            self.close_connection = True
            return
        received = Received(self.path, {k.lower(): v for k, v in self.headers.items()})
        if self.server.mode == "fail":
            collector.add(received)
            self.send_error(500, "fake backend failure")
            return
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        received.spans = decode_request(request)
        collector.add(received)
        payload = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    collector: _Collector
    mode: str


class OtlpHttpReceiver(_Collector):
    """``with OtlpHttpReceiver() as rx: ... rx.url`` — an OTLP/HTTP backend on 127.0.0.1."""

    def __init__(self, mode: str = "ok") -> None:
        super().__init__()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.collector = self
        self._server.mode = mode
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.traces_url = f"{self.url}/v1/traces"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> OtlpHttpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, collector: _Collector) -> None:
        self.collector = collector

    def Export(self, request, context):
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self.collector.add(
            Received("/opentelemetry.proto.collector.trace.v1.TraceService/Export", metadata, decode_request(request))
        )
        return trace_service_pb2.ExportTraceServiceResponse()


class OtlpGrpcReceiver(_Collector):
    """``with OtlpGrpcReceiver() as rx: ... rx.url`` — an OTLP/gRPC backend on 127.0.0.1."""

    def __init__(self) -> None:
        import grpc

        super().__init__()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(self), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> OtlpGrpcReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop(grace=None).wait()
