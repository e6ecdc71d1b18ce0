"""TraceService: load any file pyagent-trace writes, then query and summarise its spans.

The same API pyagent-studio's trace viewer uses. Recordings, pytest-plugin cassettes
(LLM and HTTP entries) and ``JsonlExporter`` output differ in shape, so each line is
recognised on its own: an exporter line carries a ``payload`` object, a recording line
does not. All of them go through the recording loader's validation (errors name file:line).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import Any

from pyagent_trace._jsonl_io import iter_jsonl
from pyagent_trace._recording import RecordEntry, entries_from_rows
from pyagent_trace._trace_summary import GroupStats, TraceSummary, summarize

__all__ = [
    "CALL_EVENTS",
    "GroupStats",
    "TraceService",
    "TraceSpan",
    "TraceSummary",
    "call_spans",
    "entry_spans",
    "load_spans",
]

CALL_EVENTS = frozenset({"llm_call", "http_interaction"})
"""Events that stand for one model call each, with its prompt, reply, tokens and cost."""


@dataclass(slots=True)
class TraceSpan(RecordEntry):
    """One event of a run, whatever file it came from: the entry's fields plus ``source``,
    the file's path. ``priced`` is False when the cost is unknown (not $0). Read-only by
    convention, like ``RecordEntry`` (not frozen, for the same loading speed)."""

    source: str = ""


# -- one line, either shape -------------------------------------------------------------------
_LIFTED = ("model", "input_tokens", "output_tokens", "tokens", "cost_usd", "duration_ms", "response")
_TYPES: dict[str, tuple[type, ...]] = {"model": (str,), "response": (str,), "priced": (bool,)}


def _lift(key: str, value: Any) -> bool:
    """Whether an exporter payload value can become the entry field of the same name."""
    wanted = _TYPES.get(key, (int, float))
    return type(value) in wanted or (key == "messages" and type(value) is list)


def _from_event(row: dict[str, Any]) -> dict[str, Any]:
    """A JsonlExporter line (``TraceEvent`` as JSON) as a recording row."""
    payload = dict(row["payload"])
    out: dict[str, Any] = {k: row[k] for k in ("event_type", "agent_name", "pattern_type", "timestamp") if k in row}
    seconds = payload.get("duration_seconds")
    if "duration_ms" not in payload and isinstance(seconds, int | float) and not isinstance(seconds, bool):
        out["duration_ms"] = seconds * 1000
        del payload["duration_seconds"]
    for key in (*_LIFTED, "messages", "priced"):
        if key in payload and _lift(key, payload[key]):
            out[key] = payload.pop(key)
    out["metadata"] = payload
    return out


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, row in iter_jsonl(path):
        yield number, (_from_event(row) if type(row.get("payload")) is dict else row)


# -- messages of an HTTP interaction ----------------------------------------------------------
def _gemini_text(content: dict[str, Any]) -> str:
    parts = content.get("parts")
    texts = [p.get("text", "") for p in parts if type(p) is dict] if type(parts) is list else []
    return "\n".join(t for t in texts if type(t) is str)


def _http_messages(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """Chat messages of an HTTP cassette entry's request body (OpenAI, Anthropic, Gemini)."""
    http = metadata.get("http")
    request = http.get("request") if type(http) is dict else None
    body = request.get("body") if type(request) is dict else None
    if type(body) is not dict:
        return []
    messages: list[dict[str, Any]] = []
    if type(body.get("system")) is str:
        messages.append({"role": "system", "content": body["system"]})
    if type(body.get("messages")) is list:
        messages.extend(m for m in body["messages"] if type(m) is dict)
    elif type(body.get("contents")) is list:
        messages.extend(
            {"role": c.get("role", "user"), "content": _gemini_text(c)} for c in body["contents"] if type(c) is dict
        )
    return messages


_ENTRY_VALUES = attrgetter(*(f.name for f in fields(RecordEntry)))
"""The entry's field values in declaration order: a span's positional arguments before ``source``."""


def _span(entry: RecordEntry, source: str) -> TraceSpan:
    """The entry as a span: times and cost as floats, ``tokens`` input+output when the line
    gave no total, and an HTTP interaction's messages read from its request body."""
    span = TraceSpan(*_ENTRY_VALUES(entry))
    span.source = source
    span.timestamp = float(span.timestamp)
    span.duration_ms = float(span.duration_ms)
    span.cost_usd = float(span.cost_usd)
    span.tokens = span.tokens or span.input_tokens + span.output_tokens
    if not span.messages and span.event_type == "http_interaction":
        span.messages = _http_messages(span.metadata)
    return span


def entry_spans(entries: Iterable[RecordEntry], source: str) -> list[TraceSpan]:
    """Spans of entries already in memory (a cassette the plugin holds), as ``load_spans`` reads them."""
    return [_span(entry, source) for entry in entries]


def load_spans(path: str | os.PathLike[str]) -> list[TraceSpan]:
    """Spans of one recording, cassette or JsonlExporter file, in file order.

    Raises FileNotFoundError for a missing file and BadRecordingError (with file:line)
    for anything that is not one JSON object per line. A header-only file gives [].
    """
    file_path = Path(path)
    if not file_path.exists():
        msg = f"Trace file {str(file_path)!r} does not exist. Check the path, or record a run first."
        raise FileNotFoundError(msg)
    source = str(file_path)
    return entry_spans(entries_from_rows(_rows(file_path), source), source)


def call_spans(spans: Iterable[TraceSpan]) -> list[TraceSpan]:
    """The spans that stand for one agent call each: LLM calls and HTTP interactions when
    there are any, else ``cost_record`` events, else ``agent_end`` events. Taking only one
    kind keeps a file that has both an ``llm_call`` and a ``cost_record`` per call from
    counting it twice."""
    spans = list(spans)
    for kinds in (CALL_EVENTS, frozenset({"cost_record"}), frozenset({"agent_end"})):
        chosen = [s for s in spans if s.event_type in kinds]
        if chosen:
            return chosen
    return []


class TraceService:
    """Load trace files, then query and summarise every span loaded so far.

    ``load`` adds to what is already loaded (a run spread over several files reads as
    one); ``clear`` forgets everything.
    """

    def __init__(self) -> None:
        self._spans: list[TraceSpan] = []

    def load(self, path: str | os.PathLike[str]) -> list[TraceSpan]:
        """Load one file and return its spans (they are also kept for query/summary)."""
        spans = load_spans(path)
        self._spans.extend(spans)
        return spans

    def add(self, spans: Iterable[TraceSpan]) -> None:
        """Keep spans loaded some other way (e.g. ``load_spans``) for query/summary."""
        self._spans.extend(spans)

    @property
    def spans(self) -> tuple[TraceSpan, ...]:
        return tuple(self._spans)

    def query(
        self,
        event_type: str | None = None,
        agent_name: str | None = None,
        min_duration_ms: float | None = None,
        model: str | None = None,
    ) -> list[TraceSpan]:
        """Spans matching every filter given, in load order."""
        return [
            s
            for s in self._spans
            if (event_type is None or s.event_type == event_type)
            and (agent_name is None or s.agent_name == agent_name)
            and (min_duration_ms is None or s.duration_ms >= min_duration_ms)
            and (model is None or s.model == model)
        ]

    def summary(self) -> TraceSummary:
        """Calls, tokens, cost and time: in total and by pattern, agent and model."""
        by_source: dict[str, list[TraceSpan]] = {}
        for span in self._spans:
            by_source.setdefault(span.source, []).append(span)
        calls = [c for spans in by_source.values() for c in call_spans(spans)]
        return summarize(calls, spans=len(self._spans))

    def clear(self) -> None:
        self._spans.clear()
