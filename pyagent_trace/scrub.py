"""The one scrubber: what must never reach a cassette on disk, nor a terminal.

One :class:`Scrubber` per cassette sees every entry before it is kept, whatever wrote it
(HTTP capture, ``cassette.llm()``), and again at write time; ``pyagent-trace scrub``,
``audit``, ``view``, ``diff``, ``stats`` and ``html`` run the same one over files. It works
three ways:

1. **by name**: secret headers, query parameters and JSON fields anywhere in a body or an
   entry (``api_key``, ``password``, ``token``, ``client_secret``…, see
   :func:`~pyagent_trace._secrets.is_secret_name`) become ``"<redacted>"``;
2. **by shape**: key-shaped strings (``sk-…``, ``sk-ant-…``, ``AIza…``, ``AKIA…``,
   ``ghp_…``, Slack, JWTs, ``Bearer …``, private keys) anywhere in any string, in the text a
   stream assembles across its events, and in binary bodies at byte level, become
   ``"<redacted:openai-key>"`` etc.;
3. **by value**: every value removed by name is remembered, and wherever else it shows up
   in the cassette (an echo in a response, a message) it becomes ``"<redacted:header>"``.

The functions return what they removed, by location and kind, never by value.

Its parts: ``_scrub_config`` (what to redact), ``_scrub_strings`` (learnt values and key
shapes in a string), ``_scrub_walk`` (field names at any depth), ``_scrub_http`` (an HTTP
interaction's headers, URL, body paths, binary bodies), ``_scrub_stream`` (a secret split
across a stream's events), ``_scrub_found`` (what is reported). This module puts them
together and is the one import path.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pyagent_trace._recording import RecordEntry
from pyagent_trace._scrub_config import DEFAULT_BODY_PATHS, DEFAULT_HEADERS, DEFAULT_QUERY_PARAMS, ScrubConfig
from pyagent_trace._scrub_found import Found
from pyagent_trace._scrub_http import HttpSideScrubber
from pyagent_trace._scrub_strings import SecretStrings
from pyagent_trace._scrub_walk import ValueWalker
from pyagent_trace._secrets import REDACTED, is_placeholder, is_secret_name

__all__ = [
    "DEFAULT_BODY_PATHS",
    "DEFAULT_HEADERS",
    "DEFAULT_QUERY_PARAMS",
    "REDACTED",
    "Found",
    "ScrubConfig",
    "Scrubber",
    "scrub_entry",
    "scrub_http",
    "scrub_value",
]

_JSON_STRING_FIELD = re.compile(r'"([^"\\]{1,100})"\s*:\s*"')
"""A JSON field with a string value, as sent: what the by-name rule could redact."""


class Scrubber:
    """The scrubber of one cassette (or one file): the config, plus the secret values it
    has learnt so far, redacted wherever they appear again. Not thread-safe by itself: the
    HTTP capture calls it under its lock."""

    def __init__(self, config: ScrubConfig | None = None) -> None:
        self._config = config if config is not None else ScrubConfig()
        self._strings = SecretStrings(self._config.scan_patterns)
        self._walker = ValueWalker(self._config, self._strings)
        self._sides = HttpSideScrubber(self._config, self._strings, self._walker)

    @property
    def config(self) -> ScrubConfig:
        """Read-only: the parts were built with it."""
        return self._config

    @property
    def generation(self) -> int:
        """How many distinct values were learnt: entries scanned before it grew are scanned again."""
        return self._strings.generation

    def learn(self, value: str, label: str) -> None:
        """Remember a secret value (removed by name) to redact it wherever else it appears;
        a ``Bearer``/``Basic`` value is learnt without its scheme too, a cookie by its values."""
        self._strings.learn(value, label)

    def text(self, text: str) -> str:
        """``text`` with every secret redacted (for printing)."""
        return self._strings.scrub(text, [], [])

    def value(self, value: Any, where: str = "") -> tuple[Any, list[Found]]:
        """Secret fields and secret strings redacted anywhere in a JSON-like value."""
        found: list[Found] = []
        return self._walker.walk(value, [where], found), found

    def looks_clean(self, body: str, url: str = "") -> bool:
        """Whether a request's JSON ``body`` (as sent) and ``url`` certainly hold nothing to
        redact: no learnt value, no key shape, no secret-named string field. A screen for the
        replay lookup, which scrubs every live request to key it: a few C-level searches
        instead of a walk of every string (most requests hold no secret). What it cannot
        judge (a query string, userinfo, a body path whose last key is present) says no, and
        the full walk decides."""
        if "?" in url or "@" in url:
            return False
        if any(path[-1] == "*" or f'"{path[-1]}"' in body for path in self.config.body_paths):
            return False  # a body path may match: it redacts whatever it finds
        if self._strings.may_hold(body + url):
            return False
        fields = self.config.fields
        return not any(is_secret_name(key) or key.lower() in fields for key in _JSON_STRING_FIELD.findall(body))

    def learn_headers(self, items: Iterable[tuple[Any, Any]]) -> None:
        """Learn the values of secret headers from ``(name, value)`` pairs as a client holds
        them (bytes or text), without building the stored form: the replay lookup drops the
        headers from its key, but a secret they carry may be echoed in the body."""
        for name, value in items:
            lowered = (name.decode("latin-1") if isinstance(name, bytes) else str(name)).lower()
            if self._sides.secret_header(lowered):
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                if not is_placeholder(text):
                    self._strings.learn(text, lowered)

    def http(
        self, interaction: Mapping[str, Any], *, scan: bool = True, streams: bool = True
    ) -> tuple[dict[str, Any], list[Found]]:
        """One ``{"request": …, "response": …}`` interaction: by name (learning the values),
        (``streams``) secrets split across a stream's events, then (``scan``) every string
        by shape and value."""
        found: list[Found] = []
        out = dict(interaction)
        for name in ("request", "response"):
            if name in out:
                out[name] = self._sides.side(out[name], name, found, streams)
        if scan:
            out = self._walker.walk(out, [""], found)
        return out, found

    def entry(self, entry: RecordEntry, *, structured: bool = True) -> tuple[RecordEntry, list[Found]]:
        """A cassette entry of any kind: its HTTP interaction by name (unless ``structured``
        is False: already done), then every field. A clean entry comes back as the same object."""
        found: list[Found] = []
        changes: dict[str, Any] = {}
        http = entry.metadata.get("http")
        if isinstance(http, Mapping):
            new_http, http_found = self.http(http, scan=False, streams=False) if structured else (dict(http), [])
            if type(entry.response) is str and self._strings.spans(entry.response):
                # A secret in the text the stream assembles may have come in pieces. (Parsing
                # every event costs ~0.5 ms a stream: only done when there is something.)
                response = self._sides.side(new_http.get("response"), "response", http_found, streams=True)
                new_http = {**new_http, "response": response} if "response" in new_http else new_http
            if http_found:
                changes["metadata"] = {**entry.metadata, "http": new_http}
                found.extend(Found(f.kind, f"metadata.http.{f.where}") for f in http_found)
        for name in ("messages", "response", "metadata", "agent_name", "pattern_type", "model"):
            value = changes.get(name, getattr(entry, name))
            new = self._walker.walk(value, [name], found)
            if new is not value:
                changes[name] = new
        return (dataclasses.replace(entry, **changes) if changes else entry), found

    def row(self, row: dict[str, Any]) -> tuple[dict[str, Any], list[Found]]:
        """One JSONL line of any shape (a cassette entry or a JsonlExporter event)."""
        found: list[Found] = []
        out = row
        metadata = row.get("metadata")
        http = metadata.get("http") if type(metadata) is dict else None
        if type(http) is dict:
            new_http, http_found = self.http(http, scan=False)
            if http_found:
                out = {**row, "metadata": {**metadata, "http": new_http}}  # type: ignore[dict-item]
                found.extend(Found(f.kind, f"metadata.http.{f.where}") for f in http_found)
        out = self._walker.walk(out, [""], found)
        return out, found


# -- one-shot functions (a fresh scrubber each) -------------------------------------------------
def scrub_http(interaction: Mapping[str, Any], config: ScrubConfig | None = None) -> tuple[dict[str, Any], list[str]]:
    """Redact one ``{"request": …, "response": …}`` interaction (as stored under an entry's
    ``metadata["http"]``). Returns a new dict, and what was removed by location."""
    if not isinstance(interaction, Mapping):
        msg = f"scrub_http() needs the interaction as a dict, got {type(interaction).__name__}."
        raise TypeError(msg)
    out, found = Scrubber(config).http(interaction)
    return out, [str(f) for f in found]


def scrub_entry(entry: RecordEntry, config: ScrubConfig | None = None) -> tuple[RecordEntry, list[str]]:
    """Redact a recording entry: its ``metadata["http"]`` interaction, then every field.
    A clean entry comes back as the same object."""
    out, found = Scrubber(config).entry(entry)
    return out, [str(f) for f in found]


def scrub_value(value: Any, where: str = "") -> tuple[Any, list[str]]:
    """Redact secret fields and key-shaped strings anywhere in a JSON-like value; returns
    the value (same object when clean) and what was found."""
    out, found = Scrubber().value(value, where)
    return out, [str(f) for f in found]
