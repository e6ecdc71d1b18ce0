"""Test support without pytest: a local tracer provider and a span normaliser.

Snapshots of spans are only useful when they are stable, so :func:`spans_to_tree` keeps
what a trace *means* (names, kinds, status, attributes, events, nesting) and drops or
fixes what changes from run to run (ids, timestamps, durations, stack traces, paths).
The pytest plugin's fixtures are thin wrappers around this module.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

from pyagent_trace import attributes as attr

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "DURATION_PLACEHOLDER",
    "STACKTRACE_PLACEHOLDER",
    "InMemorySpanExporter",
    "IncrementalIdGenerator",
    "find_spans",
    "make_test_tracer_provider",
    "own_spans",
    "spans_as_dicts",
    "spans_to_tree",
]

DURATION_PLACEHOLDER = "<duration_ms>"
STACKTRACE_PLACEHOLDER = "<stacktrace>"

# Values that change between runs, machines or base URLs, whoever's span carries them: a
# snapshot recorded against one server on one day must pass against another.
_VOLATILE: Mapping[str, str] = {
    attr.EXEC_DURATION_MS: DURATION_PLACEHOLDER,
    attr.EXCEPTION_STACKTRACE: STACKTRACE_PLACEHOLDER,
    attr.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: "<duration>",
    attr.SERVER_ADDRESS: "<server.address>",
    attr.SERVER_PORT: "<server.port>",
    attr.URL_FULL: "<url>",
    attr.HTTP_URL: "<url>",
    attr.GEN_AI_RESPONSE_ID: "<response.id>",
    attr.GEN_AI_CONVERSATION_ID: "<conversation.id>",
    attr.GEN_AI_TOOL_CALL_ID: "<tool_call.id>",
}


class IncrementalIdGenerator(IdGenerator):
    """Span ids 1, 2, 3… and trace ids 1, 2, 3…, so exported ids are the same every run."""

    def __init__(self) -> None:
        self._span_ids = itertools.count(1)
        self._trace_ids = itertools.count(1)

    def generate_span_id(self) -> int:
        return next(self._span_ids)  # next() on a count is atomic under the GIL

    def generate_trace_id(self) -> int:
        return next(self._trace_ids)


def make_test_tracer_provider(exporter: SpanExporter) -> TracerProvider:
    """A provider for one test: incremental ids, spans exported synchronously on end.

    Pass it as ``tracer_provider=``; it is never installed globally, and it does not
    register an atexit hook (tests create many).
    """
    provider = TracerProvider(id_generator=IncrementalIdGenerator(), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


# -- normalising ---------------------------------------------------------------------------
def _path_roots() -> list[tuple[str, str]]:
    roots = {
        os.getcwd(): "<cwd>",
        sys.prefix: "<prefix>",
        sys.base_prefix: "<base_prefix>",
        tempfile.gettempdir(): "<tmp>",
        os.path.expanduser("~"): "<home>",
    }
    # Longest first: a virtualenv inside the project is <prefix>, not <cwd>/.venv.
    usable = ((root, label) for root, label in roots.items() if len(root) > 1)
    return sorted(usable, key=lambda item: -len(item[0]))


def _scrub(value: Any, roots: Sequence[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for root, label in roots:
            if root in value:
                value = value.replace(root, label)
        return value
    if isinstance(value, tuple | list):
        return [_scrub(item, roots) for item in value]
    return value


def _clean_attributes(attributes: Mapping[str, Any] | None, roots: Sequence[tuple[str, str]]) -> dict[str, Any]:
    if not attributes:
        return {}
    return {key: _VOLATILE.get(key) or _scrub(attributes[key], roots) for key in sorted(attributes)}


def _span_key(span: ReadableSpan) -> tuple[int, int] | None:
    ctx = span.context
    return None if ctx is None else (ctx.trace_id, ctx.span_id)


def _parent_key(span: ReadableSpan) -> tuple[int, int] | None:
    parent = span.parent
    return None if parent is None else (parent.trace_id, parent.span_id)


def _ordered(spans: Iterable[ReadableSpan]) -> list[ReadableSpan]:
    return sorted(spans, key=lambda span: (span.start_time or 0, span.name))


def _node(span: ReadableSpan, roots: Sequence[tuple[str, str]]) -> dict[str, Any]:
    node: dict[str, Any] = {
        "name": span.name,
        "kind": span.kind.name,
        "status": span.status.status_code.name,
    }
    if span.status.description:
        node["status_description"] = _scrub(span.status.description, roots)
    node["attributes"] = _clean_attributes(span.attributes, roots)
    if span.events:
        node["events"] = [
            {"name": event.name, "attributes": _clean_attributes(event.attributes, roots)} for event in span.events
        ]
    return node


def own_spans(spans: Iterable[ReadableSpan]) -> list[ReadableSpan]:
    """Only the spans pyagent-trace emitted (its instrumentation scope), not those of
    instrumented SDKs or frameworks: a tree of them survives an SDK upgrade."""
    return [
        span
        for span in spans
        if span.instrumentation_scope is not None and span.instrumentation_scope.name == attr.INSTRUMENTATION_NAME
    ]


def _walk(
    spans: Sequence[ReadableSpan], every: Sequence[ReadableSpan] | None = None
) -> Iterable[tuple[ReadableSpan, ReadableSpan | None]]:
    """Depth-first pre-order of (span, parent), siblings by start time then name. With
    ``every`` (the spans ``spans`` was filtered from), a span whose parent was filtered
    out hangs under its nearest kept ancestor."""
    present = {_span_key(span) for span in spans}
    parents = {_span_key(span): _parent_key(span) for span in every or ()}
    children: dict[tuple[int, int] | None, list[ReadableSpan]] = {}
    for span in spans:
        parent_key = _parent_key(span)
        while parent_key is not None and parent_key not in present and parent_key in parents:
            parent_key = parents[parent_key]
        children.setdefault(parent_key if parent_key in present else None, []).append(span)
    stack: list[tuple[ReadableSpan, ReadableSpan | None]] = [
        (span, None) for span in reversed(_ordered(children.get(None, ())))
    ]
    while stack:
        span, parent = stack.pop()
        yield span, parent
        kids = _ordered(children.get(_span_key(span), ()))
        stack.extend((kid, span) for kid in reversed(kids))


def spans_to_tree(spans: Sequence[ReadableSpan], *, own_only: bool = False) -> list[dict[str, Any]]:
    """Finished spans as nested plain dicts, identical from run to run.

    Each node is ``{"name", "kind", "status", ["status_description"], "attributes",
    ["events"], "children"}``. Attributes are sorted; durations, stack traces, server
    addresses, ports, URLs, response, conversation and tool-call ids become placeholders
    whoever's span carries them; the working directory, interpreter prefix, temp dir and
    home in string values become ``<cwd>``, ``<prefix>``, ``<tmp>``, ``<home>``. A span
    whose parent is not among ``spans`` is a root. ``own_only`` keeps pyagent-trace's
    spans alone (see :func:`own_spans`), each under its nearest kept ancestor.
    """
    roots = _path_roots()
    nodes: dict[int, dict[str, Any]] = {}
    tree: list[dict[str, Any]] = []
    kept = own_spans(spans) if own_only else spans
    for span, parent in _walk(kept, spans if own_only else None):
        node = _node(span, roots)
        node["children"] = []
        nodes[id(span)] = node
        siblings = tree if parent is None else nodes[id(parent)]["children"]
        siblings.append(node)
    return tree


def spans_as_dicts(spans: Sequence[ReadableSpan]) -> list[dict[str, Any]]:
    """The same normalised spans, flat in tree order; ``"parent"`` is an index or None."""
    roots = _path_roots()
    index: dict[int, int] = {}
    flat: list[dict[str, Any]] = []
    for span, parent in _walk(spans):
        node = _node(span, roots)
        node["parent"] = None if parent is None else index[id(parent)]
        index[id(span)] = len(flat)
        flat.append(node)
    return flat


def find_spans(spans: Iterable[ReadableSpan], name: str | None = None, **attributes: Any) -> list[ReadableSpan]:
    """Spans with this name (if given) whose attributes include all of ``attributes``.

    Attribute keys contain dots, so pass them unpacked:
    ``find_spans(spans, **{"pyagent.agent.name": "bull"})``.
    """
    missing = object()
    return [
        span
        for span in spans
        if (name is None or span.name == name)
        and all((span.attributes or {}).get(key, missing) == value for key, value in attributes.items())
    ]
