"""OTLP setup in one call: Jaeger, Tempo, the Datadog Agent or any OpenTelemetry collector.

Jaeger and Tempo both take OTLP natively (port 4317 gRPC, 4318 HTTP), so one helper
covers them. The provider it returns is *not* installed globally: pass it to
``OpenTelemetryBridge`` or ``traced_pattern(tracer_provider=...)``, or install it yourself
with ``trace.set_tracer_provider``. Export runs in a BatchSpanProcessor thread behind a
:class:`FailSafeSpanExporter`, so a backend that is down never slows the traced program.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from pyagent_trace import attributes as attr
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.exporters._failsafe import BoundedTracerProvider, FailSafeSpanExporter

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["PROTOCOLS", "FailSafeSpanExporter", "otlp_span_exporter", "otlp_tracer_provider"]

HTTP: Final = "http/protobuf"
GRPC: Final = "grpc"
PROTOCOLS: Final = (HTTP, GRPC)
_TRACES_PATH: Final = "/v1/traces"
_INSTALL_HINT: Final = "pip install 'pyagent-trace[otlp]'"


def _protocol(protocol: str | None) -> str:
    chosen = (
        protocol
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or HTTP
    )
    if chosen not in PROTOCOLS:
        msg = (
            f"OTLP protocol {chosen!r} is not supported; use one of {', '.join(map(repr, PROTOCOLS))} "
            "(argument protocol= or OTEL_EXPORTER_OTLP_PROTOCOL)."
        )
        raise ConfigError(msg)
    return chosen


def _http_endpoint(endpoint: str) -> str:
    """``http://host:4318`` means the collector: add ``/v1/traces`` like OTEL_EXPORTER_OTLP_ENDPOINT."""
    if urlsplit(endpoint).path in ("", "/"):
        return endpoint.rstrip("/") + _TRACES_PATH
    return endpoint


def otlp_span_exporter(
    endpoint: str | None = None,
    *,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> SpanExporter:
    """The OpenTelemetry OTLP span exporter for ``protocol`` (``http/protobuf`` or ``grpc``).

    ``endpoint`` None reads the standard ``OTEL_EXPORTER_OTLP_*`` variables (compression,
    certificates and headers too). An HTTP endpoint without a path gets ``/v1/traces``; a
    gRPC one is ``scheme://host:port`` (``http://`` means no TLS). ``timeout`` is in
    seconds, per export.
    """
    chosen = _protocol(protocol)
    kwargs: dict[str, Any] = {"headers": dict(headers) if headers is not None else None, "timeout": timeout}
    try:
        if chosen == GRPC:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc

            return Grpc(endpoint=endpoint, **kwargs)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http
    except ImportError as err:
        msg = f"The OTLP {chosen} exporter is not installed. Install it with: {_INSTALL_HINT}"
        raise ImportError(msg) from err
    return Http(endpoint=_http_endpoint(endpoint) if endpoint else None, **kwargs)


def otlp_tracer_provider(
    endpoint: str | None = None,
    *,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    service_name: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    raise_errors: bool = False,
    shutdown_timeout: float | None = None,
) -> TracerProvider:
    """A new (not global) TracerProvider that batches spans to an OTLP endpoint.

    ``service_name`` defaults to ``OTEL_SERVICE_NAME`` or ``"pyagent"``. The provider is
    shut down at normal interpreter exit, which exports the last batch; call
    ``provider.shutdown()`` yourself to do it earlier. ``flush``, ``shutdown`` and exit wait
    for the backend at most ``shutdown_timeout`` seconds (default
    ``PYAGENT_TRACE_EXPORT_SHUTDOWN_TIMEOUT``, else 2), then log how many spans were dropped.
    """
    exporter = otlp_span_exporter(endpoint, protocol=protocol, headers=headers, timeout=timeout)
    where = (
        endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or "(default endpoint)"
    )
    failsafe = FailSafeSpanExporter(exporter, f"OTLP {where}", raise_errors=raise_errors)
    values: dict[str, Any] = {
        attr.RESOURCE_SERVICE_NAME: service_name or os.environ.get("OTEL_SERVICE_NAME") or "pyagent"
    }
    values.update(resource_attributes or {})
    provider = BoundedTracerProvider(failsafe, shutdown_timeout=shutdown_timeout, resource=Resource.create(values))
    provider.add_span_processor(BatchSpanProcessor(failsafe))
    return provider
