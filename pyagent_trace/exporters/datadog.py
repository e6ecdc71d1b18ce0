"""Datadog APM: pyagent spans in Datadog, through the Datadog Agent.

Two routes; the first is the default because it changes nothing else in the process:

1. **OTLP to the Agent** (:func:`datadog_tracer_provider`, :class:`DatadogExporter`). The
   Agent ingests OTLP on 4318 (HTTP) / 4317 (gRPC) once its OTLP receiver is on
   (``DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT=0.0.0.0:4318``). A private provider,
   no ddtrace import, nothing patched; ``service.name``, ``deployment.environment`` and
   ``service.version`` become the ``service``, ``env`` and ``version`` tags.
2. **ddtrace's OpenTelemetry API** (:func:`ddtrace_tracer_provider`), for applications
   already run by ``ddtrace-run``: pyagent spans join the request's Datadog trace. ddtrace
   is process-wide (one tracer, integrations patched at import), so this is the user's
   call, never our default.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pyagent_trace import attributes as attr
from pyagent_trace.exporters.otel import OpenTelemetryBridge
from pyagent_trace.exporters.otlp import GRPC, otlp_tracer_provider

if TYPE_CHECKING:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from pyagent_trace.events import TraceEvent

__all__ = ["DatadogExporter", "datadog_tracer_provider", "ddtrace_tracer_provider"]

_OTLP_ENV = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def _agent_endpoint(agent_url: str | None, protocol: str | None) -> str | None:
    """The argument, else the OTEL_* variables (None lets the exporter read them), else the
    Agent at ``DD_AGENT_HOST`` (localhost) on the OTLP port of the protocol."""
    if agent_url or any(os.environ.get(name) for name in _OTLP_ENV):
        return agent_url
    host = os.environ.get("DD_AGENT_HOST") or "localhost"
    port = 4317 if (protocol or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")) == GRPC else 4318
    return f"http://{host}:{port}"


def datadog_tracer_provider(
    agent_url: str | None = None,
    *,
    service: str | None = None,
    env: str | None = None,
    version: str | None = None,
    protocol: str | None = None,
    timeout: float | None = None,
    shutdown_timeout: float | None = None,
) -> TracerProvider:
    """A private provider that batches spans to the Datadog Agent's OTLP intake.

    ``service`` / ``env`` / ``version`` default to ``DD_SERVICE`` (else
    ``OTEL_SERVICE_NAME``, else ``"pyagent"``), ``DD_ENV`` and ``DD_VERSION``.
    """
    resource: dict[str, Any] = {}
    env = env or os.environ.get("DD_ENV")
    if env:
        resource[attr.RESOURCE_DEPLOYMENT_ENVIRONMENT] = resource[attr.RESOURCE_DEPLOYMENT_ENVIRONMENT_OLD] = env
    version = version or os.environ.get("DD_VERSION")
    if version:
        resource[attr.RESOURCE_SERVICE_VERSION] = version
    return otlp_tracer_provider(
        _agent_endpoint(agent_url, protocol),
        protocol=protocol,
        timeout=timeout,
        service_name=service or os.environ.get("DD_SERVICE"),
        resource_attributes=resource,
        shutdown_timeout=shutdown_timeout,
    )


def ddtrace_tracer_provider() -> trace.TracerProvider:
    """ddtrace's OpenTelemetry TracerProvider (spans go to the Agent's native intake, 8126).

    Configure it the ddtrace way (``DD_TRACE_AGENT_URL``, ``DD_SERVICE``…). Importing
    ddtrace patches the process, so call this only where ddtrace already runs.
    """
    try:
        from ddtrace.opentelemetry import TracerProvider as DdTracerProvider
    except ImportError as err:
        msg = "ddtrace_tracer_provider() needs ddtrace. Install it with: pip install 'pyagent-trace[datadog]'"
        raise ImportError(msg) from err
    provider: trace.TracerProvider = DdTracerProvider()
    return provider


class DatadogExporter:
    """Send bus events to Datadog APM: ``bus.subscribe(DatadogExporter().export_event)``.

    Args:
        agent_url: the Agent's OTLP endpoint, e.g. ``http://datadog-agent:4318``.
        service, env, version: Datadog's unified service tags (see
            :func:`datadog_tracer_provider` for the defaults).
        parent_from_context: nest runs under the current OpenTelemetry span, for when the
            application's own spans reach Datadog too.
        shutdown_timeout: seconds ``flush``, ``shutdown`` and process exit wait for the Agent
            (default ``PYAGENT_TRACE_EXPORT_SHUTDOWN_TIMEOUT``, else 2).
    """

    def __init__(
        self,
        agent_url: str | None = None,
        *,
        service: str | None = None,
        env: str | None = None,
        version: str | None = None,
        protocol: str | None = None,
        timeout: float | None = None,
        parent_from_context: bool = False,
        raise_errors: bool = False,
        shutdown_timeout: float | None = None,
    ) -> None:
        self.tracer_provider = datadog_tracer_provider(
            agent_url,
            service=service,
            env=env,
            version=version,
            protocol=protocol,
            timeout=timeout,
            shutdown_timeout=shutdown_timeout,
        )
        self._bridge = OpenTelemetryBridge(
            self.tracer_provider, parent_from_context=parent_from_context, raise_errors=raise_errors
        )
        self._closed = False

    def export_event(self, event: TraceEvent) -> None:
        self._bridge.export_event(event)

    @property
    def error_count(self) -> int:
        return self._bridge.error_count

    def flush(self) -> bool:
        """Send what has ended so far (waits at most ``shutdown_timeout`` if the Agent does not answer)."""
        return self._bridge.flush()

    def shutdown(self) -> bool:
        """End open spans and send everything; the SDK does it at exit if you don't."""
        if self._closed:
            return True
        self._closed = True
        ok = self._bridge.shutdown()
        self.tracer_provider.shutdown()
        return ok
