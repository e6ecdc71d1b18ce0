"""A secret sent in pieces across a stream's events (server-sent events), which no scan of
one event can see: the pieces are joined as the client joins them, and each piece of a
secret is removed from its event.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from typing import Any

import orjson

from pyagent_trace._scrub_found import Found
from pyagent_trace._scrub_strings import SecretStrings

__all__ = ["scrub_split_secrets"]

_TEXT_KEYS = frozenset({"text", "content", "delta", "partial_json", "arguments", "thinking", "refusal"})
"""Keys of the pieces of text a stream sends event by event (OpenAI, Anthropic, Gemini)."""


def scrub_split_secrets(events: list[Any], where: str, found: list[Found], strings: SecretStrings) -> list[Any]:
    """``events`` with every secret that spans two or more of their text pieces removed
    (the first piece carries the placeholder), so the assembled text and every event are
    clean; the same list when there is none. A secret inside one piece is left to the
    per-event scan."""
    from pyagent_trace.http.providers import parse_sse_data

    leaves: list[tuple[int, dict[str, Any], str]] = []  # (event, container, key)
    docs: dict[int, dict[str, Any]] = {}
    for index, event in enumerate(events):
        if type(event) is str and "data:" in event:
            parsed = parse_sse_data([event])
            if parsed:
                docs[index] = parsed[0]
                _text_leaves(parsed[0], index, leaves)
    if len(leaves) < 2:
        return events
    texts = [container[key] for _, container, key in leaves]
    joined = "".join(texts)
    bounds, start = [], 0
    for text in texts:
        bounds.append((start, start + len(text)))
        start += len(text)
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for lo, hi, kind, new in strings.spans(joined):
        touched = [i for i, (a, b) in enumerate(bounds) if a < hi and b > lo]
        if len(touched) < 2:
            continue  # inside one piece: the per-event scan removes it
        for position, i in enumerate(touched):
            a, b = bounds[i]
            edits.setdefault(i, []).append((max(lo, a) - a, min(hi, b) - a, new if position == 0 else ""))
        found.append(Found(kind, f"{where}[{leaves[touched[0]][0]}..{leaves[touched[-1]][0]}]"))
    if not edits:
        return events
    changed: set[int] = set()
    for i, spans in edits.items():
        event_index, container, key = leaves[i]
        text = container[key]
        for lo, hi, new in sorted(spans, reverse=True):
            text = text[:lo] + new + text[hi:]
        container[key] = text
        changed.add(event_index)
    out = list(events)
    for index in changed:
        out[index] = _with_data(events[index], docs[index])
    return out


def _text_leaves(value: Any, event: int, out: list[tuple[int, dict[str, Any], str]]) -> None:
    if type(value) is dict:
        for key, item in value.items():
            if key in _TEXT_KEYS and type(item) is str:
                out.append((event, value, key))
            else:
                _text_leaves(item, event, out)
    elif type(value) is list:
        for item in value:
            _text_leaves(item, event, out)


def _with_data(event: str, data: dict[str, Any]) -> str:
    """``event`` with its ``data:`` line(s) replaced by ``data``, other lines kept as they were."""
    lines = event.splitlines(keepends=True)
    out, done = [], False
    for line in lines:
        if not line.startswith("data:"):
            out.append(line)
        elif not done:
            ending = line[len(line.rstrip("\r\n")) :]
            out.append(f"data: {orjson.dumps(data).decode()}{ending}")
            done = True
    return "".join(out)
