"""Secret filters for cassettes: what must never be committed to a repository.

One module for the HTTP recording layer (called on every interaction, so it is pure and
cheap) and for ``pyagent-trace scrub`` (re-applied to files already on disk). A redacted
value becomes ``"<redacted>"`` and its header or parameter stays, so a reviewer sees that
something was there. The functions return what they removed, by location, never by value.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from pyagent_trace._recording import RecordEntry
from pyagent_trace.exceptions import ConfigError

__all__ = [
    "DEFAULT_BODY_PATHS",
    "DEFAULT_HEADERS",
    "DEFAULT_QUERY_PARAMS",
    "REDACTED",
    "ScrubConfig",
    "scrub_entry",
    "scrub_http",
    "scrub_value",
]

REDACTED = "<redacted>"
DEFAULT_HEADERS = frozenset(
    {
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key",
        "openai-organization", "openai-project", "cookie", "set-cookie", "anthropic-admin-key",
    }
)  # fmt: skip
DEFAULT_QUERY_PARAMS = frozenset({"key", "api_key", "apikey", "access_token", "token", "sig"})
DEFAULT_BODY_PATHS: tuple[tuple[str, ...], ...] = (("api_key",),)

# Key-shaped strings, the last line of defence. Each needs a digit (random keys have one,
# prose rarely does) and must not start inside a word ("task-force" is not "sk-…").
_D = r"(?=[\w\-.~+/]*\d)"
_KEYS = re.compile(
    rf"(?P<anthropic_key>(?<![\w-])sk-ant-{_D}[\w\-]{{16,}})"
    rf"|(?P<openai_key>(?<![\w-])sk-{_D}[\w\-]{{20,}})"
    rf"|(?P<google_api_key>(?<![\w-])AIza{_D}[\w\-]{{30,}})"
    rf"|(?P<bearer_token>(?<![\w-])(?i:bearer)\s+){_D}[\w\-.~+/]{{8,}}=*"
)
_HINTS = ("sk-", "AIza", "earer", "EARER")  # cheap substring tests before the regex


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
    key or list item. Build on the defaults with :meth:`with_extra`."""

    headers: frozenset[str] = DEFAULT_HEADERS
    query_params: frozenset[str] = DEFAULT_QUERY_PARAMS
    body_paths: tuple[tuple[str, ...], ...] = DEFAULT_BODY_PATHS
    scan_patterns: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _names(self.headers, "headers"))
        object.__setattr__(self, "query_params", _names(self.query_params, "query_params"))
        object.__setattr__(self, "body_paths", _paths(self.body_paths))

    def with_extra(
        self,
        *,
        headers: str | Iterable[str] = (),
        query: str | Iterable[str] = (),
        body_paths: Iterable[str | Sequence[str]] = (),
    ) -> ScrubConfig:
        """A copy that also redacts these headers, query parameters and body paths."""
        return dataclasses.replace(
            self,
            headers=self.headers | _names(headers, "headers"),
            query_params=self.query_params | _names(query, "query_params"),
            body_paths=(*self.body_paths, *_paths(body_paths)),
        )


_DEFAULT = ScrubConfig()


# -- key-shaped strings ---------------------------------------------------------------------
def _label(trail: list[str]) -> str:
    return "".join(trail).lstrip(".")


def _scan_text(text: str, trail: list[str], removed: list[str]) -> str:
    if not any(hint in text for hint in _HINTS):
        return text
    found: list[str] = []

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup or "secret"
        found.append(kind.replace("_", "-"))
        return (match.group("bearer_token") or "") + REDACTED

    new = _KEYS.sub(replace, text)
    where = _label(trail)
    removed.extend(f"{kind} in {where}" for kind in dict.fromkeys(found))
    return new


def _scan(value: Any, trail: list[str], removed: list[str]) -> Any:
    """``value`` with key-shaped strings redacted; the same object when nothing changed."""
    if type(value) is str:
        return _scan_text(value, trail, removed)
    if type(value) is dict:
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            trail.append(f".{key}")
            new = _scan(item, trail, removed)
            trail.pop()
            if new is not item:
                changed = changed if changed is not None else dict(value)
                changed[key] = new
        return value if changed is None else changed
    if type(value) is list:
        out: list[Any] | None = None
        for index, item in enumerate(value):
            trail.append(f"[{index}]")
            new = _scan(item, trail, removed)
            trail.pop()
            if new is not item:
                out = out if out is not None else list(value)
                out[index] = new
        return value if out is None else out
    return value


def scrub_value(value: Any, where: str = "") -> tuple[Any, list[str]]:
    """Redact key-shaped strings (``sk-…``, ``sk-ant-…``, ``AIza…``, ``Bearer …``) anywhere
    in a JSON-like value; returns the value (same object when clean) and what was found."""
    removed: list[str] = []
    return _scan(value, [where] if where else [], removed), removed


# -- HTTP interactions ----------------------------------------------------------------------
def _scrub_headers(headers: Any, names: frozenset[str], where: str, removed: list[str]) -> Any:
    if type(headers) is not dict:
        return headers
    out = dict(headers)
    for name, value in headers.items():
        if str(name).lower() not in names:
            continue
        new: Any = [REDACTED] * len(value) if type(value) is list else REDACTED
        if new != value:
            out[name] = new
            removed.append(f"{where}.{name}")
    return out


def _scrub_userinfo(base: str, removed: list[str]) -> str:
    """``https://user:secret@host/…`` → ``https://user:<redacted>@host/…``."""
    scheme, sep, rest = base.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not (sep and at and ":" in userinfo) or userinfo.endswith(f":{REDACTED}"):
        return base
    removed.append("request.url userinfo")
    return f"{scheme}://{userinfo.partition(':')[0]}:{REDACTED}@{host}{slash}{path}"


def _scrub_url(url: Any, params: frozenset[str], removed: list[str]) -> Any:
    """Redact parameter values in place; the rest of the URL is kept byte for byte (no
    re-encoding), and even a URL that ``urllib`` cannot parse is handled."""
    if type(url) is not str or ("?" not in url and "@" not in url):
        return url
    base, question, rest = url.partition("?")
    query, hash_, fragment = rest.partition("#")
    new_base = _scrub_userinfo(base, removed)
    pairs = query.split("&") if query else []
    for i, pair in enumerate(pairs):
        name, eq, value = pair.partition("=")
        if eq and value and value != REDACTED and unquote_plus(name).lower() in params:
            pairs[i] = f"{name}={REDACTED}"
            removed.append(f"request.url?{unquote_plus(name)}")
    new_query = "&".join(pairs)
    if new_base == base and new_query == query:
        return url
    return f"{new_base}{question}{new_query}{hash_}{fragment}"


def _redact_path(value: Any, path: tuple[str, ...], trail: str, removed: list[str]) -> Any:
    if not path:
        if value == REDACTED:
            return value
        removed.append(trail)
        return REDACTED
    head, rest = path[0], path[1:]
    if type(value) is dict:
        keys = list(value) if head == "*" else [head] if head in value else []
        if not keys:
            return value
        out = dict(value)
        for key in keys:
            out[key] = _redact_path(value[key], rest, f"{trail}.{key}", removed)
        return out
    if type(value) is list and head == "*":
        return [_redact_path(item, rest, f"{trail}[{i}]", removed) for i, item in enumerate(value)]
    return value


def _scrub_side(side: Any, name: str, config: ScrubConfig, removed: list[str]) -> Any:
    if type(side) is not dict:
        return side
    out = dict(side)
    if "headers" in side:
        out["headers"] = _scrub_headers(side["headers"], config.headers, f"{name}.headers", removed)
    if name == "request" and "url" in side:
        out["url"] = _scrub_url(side["url"], config.query_params, removed)
    body = side.get("body")
    if type(body) is dict or type(body) is list:
        for path in config.body_paths:
            body = _redact_path(body, path, f"{name}.body", removed)
        out["body"] = body
    return out


def _scrub_structure(interaction: Mapping[str, Any], config: ScrubConfig, removed: list[str]) -> dict[str, Any]:
    out = dict(interaction)
    for name in ("request", "response"):
        if name in out:
            out[name] = _scrub_side(out[name], name, config, removed)
    return out


def scrub_http(interaction: Mapping[str, Any], config: ScrubConfig = _DEFAULT) -> tuple[dict[str, Any], list[str]]:
    """Redact one ``{"request": …, "response": …}`` interaction (as stored under an entry's
    ``metadata["http"]``). Returns a new dict, and what was removed by location."""
    if not isinstance(interaction, Mapping):
        msg = f"scrub_http() needs the interaction as a dict, got {type(interaction).__name__}."
        raise TypeError(msg)
    removed: list[str] = []
    out = _scrub_structure(interaction, config, removed)
    if config.scan_patterns:
        out = _scan(out, [], removed)
    return out, removed


def scrub_entry(entry: RecordEntry, config: ScrubConfig = _DEFAULT) -> tuple[RecordEntry, list[str]]:
    """Redact a recording entry: its ``metadata["http"]`` interaction, then key-shaped
    strings in every field. A clean entry comes back as the same object."""
    removed: list[str] = []
    changes: dict[str, Any] = {}
    http = entry.metadata.get("http")
    if isinstance(http, Mapping):
        found: list[str] = []
        new_http = _scrub_structure(http, config, found)
        if found:
            changes["metadata"] = {**entry.metadata, "http": new_http}
            removed.extend(f"metadata.http.{where}" for where in found)
    if config.scan_patterns:
        for name in ("messages", "response", "metadata", "agent_name", "pattern_type", "model"):
            value = changes.get(name, getattr(entry, name))
            new = _scan(value, [name], removed)
            if new is not value:
                changes[name] = new
    return (dataclasses.replace(entry, **changes) if changes else entry), removed
