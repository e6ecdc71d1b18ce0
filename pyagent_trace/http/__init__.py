"""HTTP-level record and replay of provider SDKs (OpenAI, Anthropic, Gemini) into cassettes.

Names are re-exported lazily (PEP 562): only ``HttpCassette`` needs vcrpy, so reading
entries (``providers``, ``spans``) never imports it, nor pays for its patch set-up.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyagent_trace._lazy import lazy_getattr

if TYPE_CHECKING:
    from pyagent_trace.http._background import BACKGROUND, TELEMETRY_PATH_ENDS, TELEMETRY_PORTS, is_telemetry
    from pyagent_trace.http._matching import HTTP_INTERACTION
    from pyagent_trace.http.cassette import HttpCassette, RecordMode
    from pyagent_trace.http.providers import ProviderCall, Usage, parse_call, usage_from
    from pyagent_trace.http.spans import emit_genai_span, genai_attributes, is_llm_entry, record_cost

_WHERE = {
    "HTTP_INTERACTION": "_matching",
    "BACKGROUND": "_background",
    "TELEMETRY_PATH_ENDS": "_background",
    "TELEMETRY_PORTS": "_background",
    "is_telemetry": "_background",
    "HttpCassette": "cassette",
    "RecordMode": "cassette",
    "ProviderCall": "providers",
    "Usage": "providers",
    "parse_call": "providers",
    "usage_from": "providers",
    "emit_genai_span": "spans",
    "genai_attributes": "spans",
    "is_llm_entry": "spans",
    "record_cost": "spans",
}

__all__ = [
    "BACKGROUND",
    "HTTP_INTERACTION",
    "TELEMETRY_PATH_ENDS",
    "TELEMETRY_PORTS",
    "HttpCassette",
    "ProviderCall",
    "RecordMode",
    "Usage",
    "emit_genai_span",
    "genai_attributes",
    "is_llm_entry",
    "is_telemetry",
    "parse_call",
    "record_cost",
    "usage_from",
]


__getattr__ = lazy_getattr("pyagent_trace.http", _WHERE, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
