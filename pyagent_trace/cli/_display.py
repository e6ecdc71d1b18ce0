"""Recorded text as the commands show it: no secret, and no control of the terminal.

Every command that prints or renders a file's content (``view``, ``stats``, ``diff``,
``html``) reads it through :func:`display_spans`: the one scrubber redacts secrets (a
cassette written by an older version, or by hand, may hold some), and :func:`printable`
turns terminal control characters (``ESC]0;…`` titles, ``ESC[2J``, other C0/C1 controls,
bidirectional overrides) into visible ``\\x1b`` escapes. Rich markup in recorded text is
not interpreted either: the commands hand rich ``Text`` objects, never markup strings.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from pyagent_trace.scrub import Scrubber
from pyagent_trace.trace_service import TraceSpan

__all__ = ["display_spans", "printable"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Everything but tab and newline that a terminal would act on instead of printing."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters shown as ``\\x1b``-style escapes (tab, newline kept)."""
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def _printable(value: Any) -> Any:
    if type(value) is str:
        return printable(value)
    if type(value) is dict:
        return {printable(k) if type(k) is str else k: _printable(v) for k, v in value.items()}
    if type(value) is list or type(value) is tuple:
        return [_printable(v) for v in value]
    return value


_TEXT_FIELDS = ("agent_name", "pattern_type", "model", "messages", "response", "metadata")


def _clean(span: TraceSpan, scrubber: Scrubber) -> TraceSpan:
    row = {name: getattr(span, name) for name in _TEXT_FIELDS}
    new, _ = scrubber.row(row)
    new = _printable(new)
    return dataclasses.replace(span, **new)


def display_spans(spans: Sequence[TraceSpan]) -> list[TraceSpan]:
    """``spans`` as they may be shown: secrets redacted (a value learnt anywhere in the
    file is redacted everywhere in it), control characters made visible."""
    scrubber = Scrubber()
    cleaned = [_clean(span, scrubber) for span in spans]
    if scrubber.generation:  # a value learnt late may have echoed earlier in the file
        cleaned = [_clean(span, scrubber) for span in cleaned]
    return cleaned
