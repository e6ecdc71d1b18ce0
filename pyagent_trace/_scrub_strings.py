"""Secrets inside strings: the values a scrubber learnt by name, and the key shapes.

Finds where they stand in a text (learnt values, then the shapes whose hints the text
contains) and replaces each with its placeholder. The walk over values, the HTTP rules and
the joining of a stream's pieces all ask the scrubber's one instance, so a value learnt
anywhere is redacted everywhere. What a secret looks like is in ``pyagent_trace._secrets``.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from pyagent_trace._scrub_found import Found, label_of
from pyagent_trace._secrets import SHAPES, is_placeholder, placeholder

__all__ = ["MIN_VALUE_LENGTH", "SecretStrings"]

MIN_VALUE_LENGTH = 8
"""A value removed by name is searched for elsewhere only from this length on: shorter
ones ("1", "abc") would redact ordinary text."""

_CLEAN_MAX_LENGTH, _CLEAN_MAX_STRINGS = 4096, 4096
_SCHEMES = re.compile(r"^(?:bearer|basic|token|apikey|key)\s+", re.IGNORECASE)


class SecretStrings:
    """The secret values learnt so far and the key shapes (unless ``scan_patterns`` is
    False), searched for in strings."""

    def __init__(self, scan_patterns: bool) -> None:
        self._scan_patterns = scan_patterns
        self._values: dict[str, str] = {}
        self.generation = 0
        """How many distinct values were learnt: entries scanned before it grew are scanned again."""
        self._compile()

    # -- what is searched for ---------------------------------------------------------------
    def _compile(self) -> None:
        self._by_length = sorted(self._values, key=len, reverse=True)  # "ab-long" before "ab"
        escaped = (orjson.dumps(value).decode()[1:-1] for value in self._values)  # as JSON text holds it
        self._searched = tuple({*self._by_length, *escaped})
        shapes = SHAPES if self._scan_patterns else ()
        groups: dict[str, list[int]] = {}
        for index, (_, hints, _) in enumerate(shapes):
            for hint in hints:
                groups.setdefault(hint, []).append(index)
        self._hint_groups = tuple((hint, tuple(indexes)) for hint, indexes in groups.items())
        self._any_hint = re.compile("|".join(map(re.escape, groups))) if groups else None
        """One search for every hint: most texts hold none, so no shape is tried."""
        self._shapes = shapes
        self._clean: set[str] = set()
        """Strings found clean since the last value was learnt (replay asks the same prompts)."""

    def learn(self, value: str, label: str) -> None:
        """Remember a secret value (removed by name) to redact it wherever else it appears;
        a ``Bearer``/``Basic`` value is learnt without its scheme too, a cookie by its values."""
        candidates = [value]
        bare = _SCHEMES.sub("", value)
        if bare != value:
            candidates.append(bare)
        if label in ("cookie", "set-cookie"):
            candidates += [p.partition("=")[2].strip() for p in value.split(";")]
        added = False
        for candidate in candidates:
            if len(candidate) >= MIN_VALUE_LENGTH and candidate not in self._values and not is_placeholder(candidate):
                self._values[candidate] = placeholder(re.sub(r"[^\w-]", "-", label.lower())[:40] or "secret")
                added = True
        if added:
            self.generation += 1
            self._compile()

    # -- strings ------------------------------------------------------------------------------
    def spans(self, text: str) -> list[tuple[int, int, str, str]]:
        """``(start, end, kind, placeholder)`` of every secret in ``text``, in order, not
        overlapping: learnt values, then the key shapes whose hints the text contains."""
        spans = []
        for value in self._by_length:
            start = text.find(value)
            while start != -1:
                spans.append((start, start + len(value), "secret-value", self._values[value]))
                start = text.find(value, start + len(value))
        wanted: set[int] = set()
        for hint, indexes in self._hint_groups:
            if hint in text:
                wanted.update(indexes)
        for index in sorted(wanted) if wanted else ():
            kind, _, regex = self._shapes[index]
            for match in regex.finditer(text):
                start = match.start("token") if kind == "bearer-token" else match.start()
                spans.append((start, match.end(), kind, placeholder(kind)))
        if len(spans) < 2:
            return spans
        spans.sort(key=lambda span: (span[0], -span[1]))
        kept = [spans[0]]
        for span in spans[1:]:
            if span[0] >= kept[-1][1]:
                kept.append(span)
        return kept

    @staticmethod
    def _replaced(text: str, spans: list[tuple[int, int, str, str]]) -> str:
        parts, last = [], 0
        for start, end, _, new in spans:
            parts += [text[last:start], new]
            last = end
        parts.append(text[last:])
        return "".join(parts)

    def scrub(self, text: str, trail: list[Any], found: list[Found]) -> str:
        """``text`` with every secret replaced; what was removed is added to ``found``,
        labelled by ``trail`` (where the text stands)."""
        if len(text) < MIN_VALUE_LENGTH or text in self._clean:
            return text
        spans = self.spans(text)
        if not spans:
            if len(text) <= _CLEAN_MAX_LENGTH and len(self._clean) < _CLEAN_MAX_STRINGS:
                self._clean.add(text)  # a system prompt is asked again and again
            return text
        where = label_of(trail)
        found.extend(Found(kind, where) for kind in dict.fromkeys(span[2] for span in spans))
        return self._replaced(text, spans)

    def scrub_bytes(self, data: bytes, where: str, found: list[Found]) -> bytes:
        """Byte-level scan of a body that is not UTF-8: keys are ASCII, so they show through
        any ASCII-compatible encoding (latin-1 maps each byte to one character and back)."""
        return self.scrub(data.decode("latin-1"), [where], found).encode("latin-1", "replace")

    def may_hold(self, text: str) -> bool:
        """Whether ``text`` may hold a learnt value (raw or JSON-escaped) or a key shape:
        a few C-level searches; False is certain."""
        for value in self._searched:
            if value in text:
                return True
        if self._any_hint is not None and self._any_hint.search(text) is not None:
            for hint, indexes in self._hint_groups:
                if hint in text:
                    for index in indexes:
                        if self._shapes[index][2].search(text) is not None:
                            return True
        return False
