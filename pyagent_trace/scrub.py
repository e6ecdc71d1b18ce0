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
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

import orjson

from pyagent_trace._recording import RecordEntry
from pyagent_trace._secrets import REDACTED, SHAPES, is_placeholder, is_secret_name, placeholder
from pyagent_trace.exceptions import ConfigError

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

DEFAULT_HEADERS = frozenset(
    {
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key",
        "openai-organization", "openai-project", "cookie", "set-cookie", "anthropic-admin-key",
    }
)  # fmt: skip
DEFAULT_QUERY_PARAMS = frozenset({"key", "api_key", "apikey", "access_token", "token", "sig"})
DEFAULT_BODY_PATHS: tuple[tuple[str, ...], ...] = (("api_key",),)
MIN_VALUE_LENGTH = 8
"""A value removed by name is searched for elsewhere only from this length on: shorter
ones ("1", "abc") would redact ordinary text."""

_BY_NAME = frozenset({"secret-header", "secret-query-param", "secret-field", "url-password"})
_TEXT_KEYS = frozenset({"text", "content", "delta", "partial_json", "arguments", "thinking", "refusal"})
"""Keys of the pieces of text a stream sends event by event (OpenAI, Anthropic, Gemini)."""
_CLEAN_MAX_LENGTH, _CLEAN_MAX_STRINGS = 4096, 4096
_SCHEMES = re.compile(r"^(?:bearer|basic|token|apikey|key)\s+", re.IGNORECASE)
_JSON_STRING_FIELD = re.compile(r'"([^"\\]{1,100})"\s*:\s*"')
"""A JSON field with a string value, as sent: what the by-name rule could redact."""


def _names(value: str | Iterable[str], what: str) -> frozenset[str]:
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            msg = f"ScrubConfig {what} must be non-empty strings, got {item!r}; e.g. {what}=['x-secret']."
            raise ConfigError(msg)
    return frozenset(item.lower() for item in items)


def _paths(value: Iterable[str | Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    paths: list[tuple[str, ...]] = []
    for item in value:
        path = tuple(item.split(".")) if isinstance(item, str) else tuple(item)
        if not path or not all(isinstance(part, str) and part for part in path):
            msg = (
                f"ScrubConfig body_paths entry {item!r} is not a path: give a dotted string "
                "like 'auth.token' or a tuple of keys like ('items', '*', 'secret')."
            )
            raise ConfigError(msg)
        paths.append(path)
    return tuple(dict.fromkeys(paths))


@dataclass(frozen=True, slots=True)
class ScrubConfig:
    """What to redact. Names match case-insensitively; ``"*"`` in a body path matches any
    key or list item. ``fields`` are more JSON field names redacted at any depth (besides
    the secret-like names always redacted). Build on the defaults with :meth:`with_extra`."""

    headers: frozenset[str] = DEFAULT_HEADERS
    query_params: frozenset[str] = DEFAULT_QUERY_PARAMS
    body_paths: tuple[tuple[str, ...], ...] = DEFAULT_BODY_PATHS
    scan_patterns: bool = True
    fields: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _names(self.headers, "headers"))
        object.__setattr__(self, "query_params", _names(self.query_params, "query_params"))
        object.__setattr__(self, "body_paths", _paths(self.body_paths))
        object.__setattr__(self, "fields", _names(self.fields, "fields"))

    def with_extra(
        self,
        *,
        headers: str | Iterable[str] = (),
        query: str | Iterable[str] = (),
        body_paths: Iterable[str | Sequence[str]] = (),
        fields: str | Iterable[str] = (),
    ) -> ScrubConfig:
        """A copy that also redacts these headers, query parameters, body paths and fields."""
        return dataclasses.replace(
            self,
            headers=self.headers | _names(headers, "headers"),
            query_params=self.query_params | _names(query, "query_params"),
            body_paths=(*self.body_paths, *_paths(body_paths)),
            fields=self.fields | _names(fields, "fields"),
        )


class Found(NamedTuple):
    """One removed secret: its kind (``openai-key``, ``secret-header``…) and where it was."""

    kind: str
    where: str

    def __str__(self) -> str:
        return self.where if self.kind in _BY_NAME else f"{self.kind} in {self.where}"


def _label(trail: list[Any]) -> str:
    """``messages[0].content`` from a trail: its root, then dict keys and list indexes
    (formatted only when something is found: the walk itself just pushes and pops)."""
    parts = [str(trail[0])] if trail else []
    parts += [f"[{part}]" if type(part) is int else f".{part}" for part in trail[1:]]
    return "".join(parts).lstrip(".")


class Scrubber:
    """The scrubber of one cassette (or one file): the config, plus the secret values it
    has learnt so far, redacted wherever they appear again. Not thread-safe by itself: the
    HTTP capture calls it under its lock."""

    def __init__(self, config: ScrubConfig | None = None) -> None:
        self.config = config if config is not None else ScrubConfig()
        self._values: dict[str, str] = {}
        self.generation = 0
        """How many distinct values were learnt: entries scanned before it grew are scanned again."""
        self._compile()

    # -- what is searched for ---------------------------------------------------------------
    def _compile(self) -> None:
        self._by_length = sorted(self._values, key=len, reverse=True)  # "ab-long" before "ab"
        escaped = (orjson.dumps(value).decode()[1:-1] for value in self._values)  # as JSON text holds it
        self._searched = tuple({*self._by_length, *escaped})
        shapes = SHAPES if self.config.scan_patterns else ()
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
    def _spans(self, text: str) -> list[tuple[int, int, str, str]]:
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

    def _text(self, text: str, trail: list[Any], found: list[Found]) -> str:
        if len(text) < MIN_VALUE_LENGTH or text in self._clean:
            return text
        spans = self._spans(text)
        if not spans:
            if len(text) <= _CLEAN_MAX_LENGTH and len(self._clean) < _CLEAN_MAX_STRINGS:
                self._clean.add(text)  # a system prompt is asked again and again
            return text
        where = _label(trail)
        found.extend(Found(kind, where) for kind in dict.fromkeys(span[2] for span in spans))
        return self._replaced(text, spans)

    def _bytes(self, data: bytes, where: str, found: list[Found]) -> bytes:
        """Byte-level scan of a body that is not UTF-8: keys are ASCII, so they show through
        any ASCII-compatible encoding (latin-1 maps each byte to one character and back)."""
        return self._text(data.decode("latin-1"), [where], found).encode("latin-1", "replace")

    def text(self, text: str) -> str:
        """``text`` with every secret redacted (for printing)."""
        return self._text(text, [], [])

    # -- any JSON-like value: field names, then strings --------------------------------------
    def _secret_field(self, key: Any, item: str, container: Mapping[Any, Any]) -> bool:
        """Called for string items only (the caller checks: this runs for every dict item)."""
        if not item or type(key) is not str or not (is_secret_name(key) or key.lower() in self.config.fields):
            return False
        return not is_placeholder(item) and "logprob" not in container  # logprobs name each token "token"

    def _walk(self, value: Any, trail: list[Any], found: list[Found], scan: bool = True) -> Any:
        """``value`` with secret fields redacted (their values learnt) and, when ``scan``,
        secret strings too; the same object when nothing changed."""
        kind = type(value)
        if kind is str:
            return self._text(value, trail, found) if scan else value
        if kind is dict:
            changed: dict[Any, Any] | None = None
            for key, item in value.items():
                trail.append(key)
                if type(item) is str and self._secret_field(key, item, value):
                    self.learn(item, str(key))
                    found.append(Found("secret-field", _label(trail)))
                    new: Any = REDACTED
                else:
                    new = self._walk(item, trail, found, scan)
                trail.pop()
                if new is not item:
                    changed = changed if changed is not None else dict(value)
                    changed[key] = new
            return value if changed is None else changed
        if kind is list:
            out: list[Any] | None = None
            for index, item in enumerate(value):
                if not scan and type(item) is not dict and type(item) is not list:
                    continue
                trail.append(index)
                new = self._walk(item, trail, found, scan)
                trail.pop()
                if new is not item:
                    out = out if out is not None else list(value)
                    out[index] = new
            return value if out is None else out
        return value

    def value(self, value: Any, where: str = "") -> tuple[Any, list[Found]]:
        """Secret fields and secret strings redacted anywhere in a JSON-like value."""
        found: list[Found] = []
        return self._walk(value, [where], found), found

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
        text = body + url
        for value in self._searched:
            if value in text:
                return False
        if self._any_hint is not None and self._any_hint.search(text) is not None:
            for hint, indexes in self._hint_groups:
                if hint in text:
                    for index in indexes:
                        if self._shapes[index][2].search(text) is not None:
                            return False
        fields = self.config.fields
        return not any(is_secret_name(key) or key.lower() in fields for key in _JSON_STRING_FIELD.findall(body))

    def learn_headers(self, items: Iterable[tuple[Any, Any]]) -> None:
        """Learn the values of secret headers from ``(name, value)`` pairs as a client holds
        them (bytes or text), without building the stored form: the replay lookup drops the
        headers from its key, but a secret they carry may be echoed in the body."""
        for name, value in items:
            lowered = (name.decode("latin-1") if isinstance(name, bytes) else str(name)).lower()
            if self._secret_header(lowered):
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                if not is_placeholder(text):
                    self.learn(text, lowered)

    # -- HTTP interactions --------------------------------------------------------------------
    def _secret_header(self, lowered: str) -> bool:
        """Whether a header (lower-case name) holds a secret: configured, or named like one."""
        return lowered in self.config.headers or is_secret_name(lowered)

    def _headers(self, headers: Any, where: str, found: list[Found]) -> Any:
        if type(headers) is not dict:
            return headers
        out = dict(headers)
        for name, value in headers.items():
            lowered = str(name).lower()
            if not self._secret_header(lowered):
                continue
            for item in value if type(value) is list else [value]:
                if type(item) is str and not is_placeholder(item):
                    self.learn(item, lowered)
            new: Any = [REDACTED] * len(value) if type(value) is list else REDACTED
            if new != value:
                out[name] = new
                found.append(Found("secret-header", f"{where}.{name}"))
        return out

    def _userinfo(self, base: str, found: list[Found]) -> str:
        """``https://user:secret@host/…`` → ``https://user:<redacted>@host/…``."""
        scheme, sep, rest = base.partition("://")
        authority, slash, path = rest.partition("/")
        userinfo, at, host = authority.rpartition("@")
        if not (sep and at and ":" in userinfo) or userinfo.endswith(f":{REDACTED}"):
            return base
        user, _, password = userinfo.partition(":")
        self.learn(unquote_plus(password), "url-password")
        found.append(Found("url-password", "request.url userinfo"))
        return f"{scheme}://{user}:{REDACTED}@{host}{slash}{path}"

    def _url(self, url: Any, found: list[Found]) -> Any:
        """Redact parameter values in place; the rest of the URL is kept byte for byte (no
        re-encoding), and even a URL that ``urllib`` cannot parse is handled."""
        if type(url) is not str or ("?" not in url and "@" not in url):
            return url
        base, question, rest = url.partition("?")
        query, hash_, fragment = rest.partition("#")
        new_base = self._userinfo(base, found)
        pairs = query.split("&") if query else []
        for i, pair in enumerate(pairs):
            name, eq, value = pair.partition("=")
            plain = unquote_plus(name).lower()
            if eq and value and value != REDACTED and (plain in self.config.query_params or is_secret_name(plain)):
                self.learn(unquote_plus(value), plain)
                pairs[i] = f"{name}={REDACTED}"
                found.append(Found("secret-query-param", f"request.url?{unquote_plus(name)}"))
        new_query = "&".join(pairs)
        if new_base == base and new_query == query:
            return url
        return f"{new_base}{question}{new_query}{hash_}{fragment}"

    def _path(self, value: Any, path: tuple[str, ...], trail: str, found: list[Found]) -> Any:
        if not path:
            if value == REDACTED:
                return value
            if type(value) is str:
                self.learn(value, trail.rpartition(".")[2])
            found.append(Found("secret-field", trail))
            return REDACTED
        head, rest = path[0], path[1:]
        if type(value) is dict:
            keys = list(value) if head == "*" else [head] if head in value else []
            if not keys:
                return value
            out = dict(value)
            for key in keys:
                out[key] = self._path(value[key], rest, f"{trail}.{key}", found)
            return out
        if type(value) is list and head == "*":
            return [self._path(item, rest, f"{trail}[{i}]", found) for i, item in enumerate(value)]
        return value

    def _side(self, side: Any, name: str, found: list[Found], streams: bool) -> Any:
        if type(side) is not dict:
            return side
        out = dict(side)
        if "headers" in side:
            out["headers"] = self._headers(side["headers"], f"{name}.headers", found)
        if name == "request" and "url" in side:
            out["url"] = self._url(side["url"], found)
        body = side.get("body")
        if type(body) is dict or type(body) is list:
            for path in self.config.body_paths:
                body = self._path(body, path, f"{name}.body", found)
            out["body"] = self._walk(body, [f"{name}.body"], found, scan=False)  # learnt before any scan
        if type(side.get("body_base64")) is str:
            out["body_base64"] = self._base64(side["body_base64"], f"{name}.body_base64", found)
        events = side.get("sse_events")
        if streams and type(events) is list and self.config.scan_patterns:
            out["sse_events"] = self._stream(events, f"{name}.sse_events", found)
        return out

    def _base64(self, data: str, where: str, found: list[Found]) -> str:
        """A binary body: decoded, scanned at byte level, encoded again."""
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return data  # not ours to fix here: the reader reports a bad body
        new = self._bytes(raw, where, found)
        return data if new == raw else base64.b64encode(new).decode("ascii")

    def _stream(self, events: list[Any], where: str, found: list[Found]) -> list[Any]:
        """A secret sent in pieces across a stream's events: the pieces are joined as the
        client joins them, and each piece of a secret is removed from its event (the first
        one carries the placeholder), so the assembled text and every event are clean."""
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
        for lo, hi, kind, new in self._spans(joined):
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
                out[name] = self._side(out[name], name, found, streams)
        if scan:
            out = self._walk(out, [""], found)
        return out, found

    def entry(self, entry: RecordEntry, *, structured: bool = True) -> tuple[RecordEntry, list[Found]]:
        """A cassette entry of any kind: its HTTP interaction by name (unless ``structured``
        is False: already done), then every field. A clean entry comes back as the same object."""
        found: list[Found] = []
        changes: dict[str, Any] = {}
        http = entry.metadata.get("http")
        if isinstance(http, Mapping):
            new_http, http_found = self.http(http, scan=False, streams=False) if structured else (dict(http), [])
            if type(entry.response) is str and self._spans(entry.response):
                # A secret in the text the stream assembles may have come in pieces. (Parsing
                # every event costs ~0.5 ms a stream: only done when there is something.)
                response = self._side(new_http.get("response"), "response", http_found, streams=True)
                new_http = {**new_http, "response": response} if "response" in new_http else new_http
            if http_found:
                changes["metadata"] = {**entry.metadata, "http": new_http}
                found.extend(Found(f.kind, f"metadata.http.{f.where}") for f in http_found)
        for name in ("messages", "response", "metadata", "agent_name", "pattern_type", "model"):
            value = changes.get(name, getattr(entry, name))
            new = self._walk(value, [name], found)
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
        out = self._walk(out, [""], found)
        return out, found


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
