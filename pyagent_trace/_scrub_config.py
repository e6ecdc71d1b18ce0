"""What a scrubber redacts: ``ScrubConfig``, its defaults and the checks of its arguments.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyagent_trace.exceptions import ConfigError

__all__ = ["DEFAULT_BODY_PATHS", "DEFAULT_HEADERS", "DEFAULT_QUERY_PARAMS", "ScrubConfig"]

DEFAULT_HEADERS = frozenset(
    {
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key",
        "openai-organization", "openai-project", "cookie", "set-cookie", "anthropic-admin-key",
    }
)  # fmt: skip
DEFAULT_QUERY_PARAMS = frozenset({"key", "api_key", "apikey", "access_token", "token", "sig"})
DEFAULT_BODY_PATHS: tuple[tuple[str, ...], ...] = (("api_key",),)


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
