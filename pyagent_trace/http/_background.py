"""Background traffic: what frameworks and SDKs send on their own, which is no test's call.

Telemetry exports (OTLP, LangSmith, Langfuse, Datadog, the OpenAI Agents SDK's traces),
metadata fetches (LiteLLM's price map) and analytics pings happen on timers, at import or
at exit, with ids and times that differ every run. Recorded, they would make every replay
miss; unrecognised in replay, they would fail a test that made no such call. So they are
never recorded, and in replay each gets what its sender treats as harmless: an empty
success for exports (no retry loop, no warning), or the network block for fetches whose
sender then falls back to the copy it ships (what it does offline). Each rule names the
source where the endpoint was read; ``pyagent_trace_ignore_hosts`` adds more.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pyagent_trace.exceptions import ConfigError

__all__ = [
    "BACKGROUND",
    "BLOCK",
    "EMPTY",
    "TELEMETRY_PATH_ENDS",
    "TELEMETRY_PORTS",
    "Background",
    "background_rule",
    "empty_response",
    "is_background_host",
    "is_loopback",
    "is_telemetry",
    "parse_rules",
]

Answer = Literal["empty", "block"]
EMPTY: Answer = "empty"
"""Answered in replay with ``200 {}``: exporters count the batch as sent."""
BLOCK: Answer = "block"
"""Left to meet the network block in replay: the sender falls back as it does offline."""


def empty_response() -> dict[str, Any]:
    """The empty success as vcrpy's response dict (fresh: vcrpy's stubs edit what they get)."""
    headers = {"content-type": ["application/json"], "content-length": ["2"]}
    return {"status": {"code": 200, "message": "OK"}, "headers": headers, "body": {"string": b"{}"}}


TELEMETRY_PATH_ENDS = ("/v1/traces", "/v1/metrics", "/v1/logs")
TELEMETRY_PORTS = frozenset({4317, 4318, 8126})  # OTLP gRPC / HTTP, Datadog Agent
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""})


@dataclass(frozen=True, slots=True)
class Background:
    """One endpoint: ``host`` exact, ``.domain`` for a domain and its subdomains, or "" for
    any host; ``port`` (0: any); the path ending with ``ends`` and containing ``contains``."""

    what: str
    answer: Answer
    host: str = ""
    port: int = 0
    ends: str = ""
    contains: str = ""

    def matches_host(self, host: str, port: int | None) -> bool:
        if self.host and not (host == self.host or (self.host.startswith(".") and host.endswith(self.host))):
            return False
        return not self.port or port == self.port

    def matches(self, host: str, port: int | None, path: str) -> bool:
        return self.matches_host(host, port) and path.endswith(self.ends) and self.contains in path

    @classmethod
    def parse(cls, entry: str) -> Background:
        """An ini entry: ``host``, ``host:port``, ``.domain`` or ``host/path/part``."""
        text = entry.strip().lower().removeprefix("https://").removeprefix("http://")
        where, slash, path = text.partition("/")
        host, port = where, ""
        if where.startswith("["):  # [IPv6] or [IPv6]:port
            host, _, rest = where[1:].partition("]")
            port = rest.removeprefix(":")
        elif where.count(":") == 1:
            host, _, port = where.partition(":")
        if (port and not port.isdigit()) or not host:
            msg = (f"pyagent_trace_ignore_hosts entry {entry!r}: write host, host:port (a number), .domain "
                   "or host/path/part.")  # fmt: skip
            raise ConfigError(msg)
        return cls(f"ini entry {entry!r}", BLOCK, host, int(port or 0), contains=slash + path if path else "")


def _rules() -> tuple[Background, ...]:
    otlp = "OTLP export (logfire, LangSmith and Langfuse OTel, any collector)"
    return (
        *(Background(otlp, EMPTY, ends=end) for end in TELEMETRY_PATH_ENDS),
        # agents/tracing/processors.py: BackendSpanExporter posts here, retrying with backoff.
        Background("OpenAI Agents SDK trace export", EMPTY, ends="/v1/traces/ingest"),
        Background("Langfuse ingestion", EMPTY, contains="/api/public/"),
        # langsmith/client.py: GET /info, POST /runs/multipart, /runs/batch (self-hosted too).
        Background("LangSmith", EMPTY, host=".smith.langchain.com"),
        Background("LangSmith run ingestion", EMPTY, ends="/runs/multipart"),
        Background("LangSmith run ingestion", EMPTY, ends="/runs/batch"),
        *(Background("Datadog intake", EMPTY, host=domain) for domain in (".datadoghq.com", ".datadoghq.eu")),
        Background("Datadog intake", EMPTY, host=".ddog-gov.com"),
        *(Background("OTLP / Datadog Agent port", EMPTY, port=port) for port in sorted(TELEMETRY_PORTS)),
        Background("PostHog analytics", EMPTY, host=".posthog.com"),
        Background("Scarf analytics", EMPTY, host=".scarf.sh"),
        # litellm/__init__.py: model_cost_map_url and anthropic_beta_headers_url, fetched at
        # import (get_model_cost_map.py); on failure LiteLLM uses the copy it ships.
        Background("LiteLLM price map", BLOCK, host="raw.githubusercontent.com", contains="/berriai/litellm/"),
        Background("genai-prices update", BLOCK, host="raw.githubusercontent.com", contains="/pydantic/genai-prices/"),
        # logfire/_internal/config.py: the token check GET /v1/info (exports are OTLP, above).
        *(Background("Logfire API", BLOCK, host=f"logfire-{r}.pydantic.dev") for r in ("us", "eu", "api")),
    )


BACKGROUND: tuple[Background, ...] = _rules()
"""The maintained list, first match wins (OTLP before the hosts it may be sent to)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: a loopback name or address (IPv4-mapped, a trailing
    dot, the unspecified address too): local collectors and fake servers, never blocked."""
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def parse_rules(entries: Iterable[str]) -> tuple[Background, ...]:
    """The rules of ``pyagent_trace_ignore_hosts`` entries (blank ones skipped)."""
    return tuple(Background.parse(e) for e in entries if e.strip())


@functools.lru_cache(maxsize=1024)
def _builtin_rule(url: str) -> tuple[Background | None, str, int | None, str]:
    """(rule, host, port, path) of a URL; cached: an SDK sends the same URL again and again."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host, path = (parts.hostname or "").lower(), parts.path.lower()
    return next((r for r in BACKGROUND if r.matches(host, port, path)), None), host, port, path


def background_rule(url: str, extra: tuple[Background, ...] = ()) -> Background | None:
    """The rule ``url`` falls under (built-in first, then ``extra``), or None for a test's call."""
    rule, host, port, path = _builtin_rule(url)
    if rule is None and extra:
        rule = next((r for r in extra if r.matches(host, port, path)), None)
    return rule


def is_background_host(host: str, port: int | None, extra: tuple[Background, ...] = ()) -> bool:
    """Whether a connection (host and port only, as a socket sees it) is background traffic:
    the network block refuses it without reporting it as the test's own."""
    host = host.lower()
    return any(r.matches_host(host, port) for r in (*BACKGROUND, *extra) if r.host or r.port)


def is_telemetry(url: str, ignore_hosts: frozenset[str] = frozenset()) -> bool:
    """Whether ``url`` is background traffic (the built-in list, or ``ignore_hosts`` entries)."""
    return background_rule(url, parse_rules(ignore_hosts)) is not None
