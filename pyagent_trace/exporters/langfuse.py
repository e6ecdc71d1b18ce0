"""LangfuseExporter: each run a Langfuse trace, agents agent-observations, LLM calls generations.

Built on the official ``langfuse`` Python SDK (OpenTelemetry inside since v3; this needs v5,
tested with 5.0.4), with what we learned reading its source:

* ``Langfuse()`` without ``tracer_provider=`` *installs its own provider globally* when the
  application has none, or adds its span processor to the application's global provider.
  Either way it changes the user's tracing, so we pass a private ``TracerProvider`` that is
  never installed.
* By default the SDK exports only spans that carry ``gen_ai.*`` attributes or come from
  known LLM instrumentations, which would drop pattern spans; our private provider holds
  nothing but our spans, so ``should_export_span`` lets all of them through.
* We hand the SDK its OTLP exporter (``{host}/api/public/otel/v1/traces``, Basic auth,
  ``x-langfuse-ingestion-version: 4``, as Langfuse documents for direct OTLP) wrapped in
  :class:`FailSafeSpanExporter`, so a Langfuse outage logs one warning, not one per batch.
* The SDK keeps one client state per public key: if the process already built a Langfuse
  client with the same key, ours is ignored; we then export through our own batch
  processor instead of losing the spans.

Why not ``langfuse.start_observation``: it takes neither a start time nor an explicit
parent, and the bus gives us both (event timestamps, concurrent runs).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import base64
import logging
import os
from typing import TYPE_CHECKING, Any, Final

import orjson
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from pyagent_trace import attributes as attr
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.exporters._failsafe import BoundedTracerProvider, FailSafeSpanExporter
from pyagent_trace.exporters._span_tree import AGENT, LLM, PATTERN
from pyagent_trace.exporters.otel import OpenTelemetryBridge, SpanNode
from pyagent_trace.exporters.otlp import otlp_span_exporter

try:
    from langfuse import Langfuse, LangfuseOtelSpanAttributes
    from langfuse import __version__ as langfuse_version
except ImportError as err:  # pragma: no cover - exercised in a test that hides langfuse
    _msg = (
        "pyagent_trace.exporters.langfuse needs the Langfuse SDK (v5 or newer), which is not "
        "installed. Install it with: pip install 'pyagent-trace[langfuse]'"
    )
    raise ImportError(_msg) from err

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.util.types import AttributeValue

    from pyagent_trace.events import TraceEvent

__all__ = ["LangfuseExporter"]

logger = logging.getLogger(__name__)

DEFAULT_HOST: Final = "https://cloud.langfuse.com"
OTEL_PATH: Final = "/api/public/otel/v1/traces"
_LF = LangfuseOtelSpanAttributes
_TYPES: Final = {PATTERN: "chain", AGENT: "agent", LLM: "generation"}


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


class _LangfuseBridge(OpenTelemetryBridge):
    """The bridge's spans, plus the attributes Langfuse reads for types, model, usage, cost."""

    def _start_attributes(self, kind: str, name: str, root: bool, attrs: dict[str, AttributeValue]) -> None:
        attrs[_LF.OBSERVATION_TYPE] = _TYPES[kind]
        if root:
            attrs[_LF.TRACE_NAME] = name
        model = attrs.get(attr.GEN_AI_REQUEST_MODEL)
        if kind == LLM and model:
            attrs[_LF.OBSERVATION_MODEL] = model

    def _end_attributes(self, node: SpanNode, attrs: dict[str, AttributeValue]) -> None:
        usage = node.usage
        if node.kind != LLM or not usage.calls:
            return
        total = usage.input_tokens + usage.output_tokens
        attrs[_LF.OBSERVATION_USAGE_DETAILS] = _json(
            {"input": usage.input_tokens, "output": usage.output_tokens, "total": total}
        )
        if not usage.unpriced:  # unpriced: let Langfuse price it from its own model table
            attrs[_LF.OBSERVATION_COST_DETAILS] = _json({"total": round(usage.usd, 12)})
        if usage.model:
            attrs[_LF.OBSERVATION_MODEL] = usage.model


def _client(**kwargs: Any) -> Langfuse:
    try:
        return Langfuse(**kwargs)
    except TypeError as err:  # an SDK without tracer_provider= / span_exporter= / should_export_span=
        msg = (
            f"LangfuseExporter needs langfuse>=5 (tested with 5.0.4); langfuse {langfuse_version} "
            f"is installed and rejected an argument ({err}). Upgrade: pip install -U 'pyagent-trace[langfuse]'"
        )
        raise ConfigError(msg) from err


def _required(name: str, value: str | None) -> str:
    if not value:
        msg = (
            f"LangfuseExporter needs a {name}, got {value!r}. Pass {name}= or set "
            f"LANGFUSE_{name.upper()} (the keys are in the Langfuse project settings)."
        )
        raise ConfigError(msg)
    return value


def _only_ours(span: ReadableSpan) -> bool:
    scope = span.instrumentation_scope
    return scope is not None and scope.name == attr.INSTRUMENTATION_NAME


class LangfuseExporter:
    """Send bus events to Langfuse: ``bus.subscribe(LangfuseExporter(...).export_event)``.

    Args:
        public_key, secret_key: the project's keys; default ``LANGFUSE_PUBLIC_KEY`` /
            ``LANGFUSE_SECRET_KEY``.
        host: ``https://cloud.langfuse.com`` or your self-hosted URL; defaults to
            ``LANGFUSE_BASE_URL`` / ``LANGFUSE_HOST``, then Langfuse Cloud (EU).
        timeout: seconds per export request.
        flush_interval: seconds between background sends (the SDK's default: 5).
        capture_content: send prompts and responses of ``llm_call`` events (off by default).
        environment, release: Langfuse's environment and release tags.
        shutdown_timeout: seconds ``flush``, ``shutdown`` and process exit wait for Langfuse
            (default ``PYAGENT_TRACE_EXPORT_SHUTDOWN_TIMEOUT``, else 2).
    """

    def __init__(
        self,
        public_key: str | None = None,
        secret_key: str | None = None,
        host: str | None = None,
        *,
        timeout: int = 5,
        flush_interval: float | None = None,
        capture_content: bool = False,
        environment: str | None = None,
        release: str | None = None,
        raise_errors: bool = False,
        shutdown_timeout: float | None = None,
    ) -> None:
        public_key = _required("public_key", public_key or os.environ.get("LANGFUSE_PUBLIC_KEY"))
        secret_key = _required("secret_key", secret_key or os.environ.get("LANGFUSE_SECRET_KEY"))
        self.host = (
            host or os.environ.get("LANGFUSE_BASE_URL") or os.environ.get("LANGFUSE_HOST") or DEFAULT_HOST
        ).rstrip("/")
        resource = {attr.RESOURCE_SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or "pyagent"}
        resource.update({k: v for k, v in ((_LF.ENVIRONMENT, environment), (_LF.RELEASE, release)) if v})
        auth = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode("ascii")
        headers = {"Authorization": f"Basic {auth}", "x-langfuse-ingestion-version": "4"}
        otlp = otlp_span_exporter(self.host + OTEL_PATH, headers=headers, timeout=timeout)
        self.span_exporter = FailSafeSpanExporter(otlp, f"Langfuse {self.host}", raise_errors=raise_errors)
        self.tracer_provider = BoundedTracerProvider(
            self.span_exporter, shutdown_timeout=shutdown_timeout, resource=Resource.create(resource)
        )
        self.client = _client(
            public_key=public_key,
            secret_key=secret_key,
            base_url=self.host,
            timeout=timeout,
            flush_interval=flush_interval,
            environment=environment,
            release=release,
            tracer_provider=self.tracer_provider,
            span_exporter=self.span_exporter,
            should_export_span=_only_ours,
        )
        self._use_shared_client_safely(public_key)
        self._bridge = _LangfuseBridge(
            self.tracer_provider,
            parent_from_context=False,
            capture_content=capture_content,
            cost_records_as_llm_spans=True,
            raise_errors=raise_errors,
        )
        self._closed = False

    def _use_shared_client_safely(self, public_key: str) -> None:
        """The SDK ignores our provider when a client for this key already exists: export ourselves."""
        resources = getattr(self.client, "_resources", None)
        provider = getattr(resources, "tracer_provider", self.tracer_provider)
        if provider is None or provider is self.tracer_provider:  # None: LANGFUSE_TRACING_ENABLED=false
            return
        logger.info(
            "A Langfuse client for public key %r already exists in this process and the SDK shares "
            "it; LangfuseExporter sends its spans through its own exporter instead.",
            public_key,
        )
        self.tracer_provider.add_span_processor(BatchSpanProcessor(self.span_exporter))

    def export_event(self, event: TraceEvent) -> None:
        self._bridge.export_event(event)

    @property
    def error_count(self) -> int:
        return self._bridge.error_count + self.span_exporter.failure_count

    def flush(self) -> bool:
        """Send what has ended so far (waits at most ``shutdown_timeout`` if Langfuse does not answer)."""
        ok = self._bridge.flush()
        try:
            self.client.flush()
        except Exception as exc:
            logger.warning("LangfuseExporter.flush: the Langfuse SDK failed to flush: %s", exc)
            return False
        return ok

    def shutdown(self) -> bool:
        """End open spans, send everything, stop the SDK's threads (exit does the same if you don't)."""
        if self._closed:
            return True
        self._closed = True
        ok = self._bridge.shutdown()
        try:
            self.client.shutdown()
            self.tracer_provider.shutdown()
        except Exception as exc:
            logger.warning("LangfuseExporter.shutdown: the Langfuse SDK failed to shut down: %s", exc)
            return False
        return ok
