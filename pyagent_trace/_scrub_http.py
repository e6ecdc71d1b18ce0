"""One side (request or response) of a recorded HTTP interaction, by its structure:
secret headers, query parameters and URL passwords, configured body paths and
secret-named body fields, each value learnt; base64 bodies scanned at byte level; and
secrets split across a stream's events.

The stored form is what the by-name rules touch: the rest of a URL is kept byte for byte.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from pyagent_trace._scrub_config import ScrubConfig
from pyagent_trace._scrub_found import Found
from pyagent_trace._scrub_stream import scrub_split_secrets
from pyagent_trace._scrub_strings import SecretStrings
from pyagent_trace._scrub_walk import ValueWalker
from pyagent_trace._secrets import REDACTED, is_placeholder, is_secret_name

__all__ = ["HttpSideScrubber"]


class HttpSideScrubber:
    """The by-name rules of ``config`` for an HTTP interaction's sides; learnt values go to
    ``strings``, body fields are walked (by name only) with ``walker``."""

    def __init__(self, config: ScrubConfig, strings: SecretStrings, walker: ValueWalker) -> None:
        self.config = config
        self._strings = strings
        self._walker = walker

    def secret_header(self, lowered: str) -> bool:
        """Whether a header (lower-case name) holds a secret: configured, or named like one."""
        return lowered in self.config.headers or is_secret_name(lowered)

    def _headers(self, headers: Any, where: str, found: list[Found]) -> Any:
        if type(headers) is not dict:
            return headers
        out = dict(headers)
        for name, value in headers.items():
            lowered = str(name).lower()
            if not self.secret_header(lowered):
                continue
            for item in value if type(value) is list else [value]:
                if type(item) is str and not is_placeholder(item):
                    self._strings.learn(item, lowered)
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
        self._strings.learn(unquote_plus(password), "url-password")
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
                self._strings.learn(unquote_plus(value), plain)
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
                self._strings.learn(value, trail.rpartition(".")[2])
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

    def side(self, side: Any, name: str, found: list[Found], streams: bool) -> Any:
        """The ``request`` or ``response`` (``name``) by name; (``streams``) its stream's
        split secrets too. A side that is not a dict comes back as it is."""
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
            out["body"] = self._walker.walk(body, [f"{name}.body"], found, scan=False)  # learnt before any scan
        if type(side.get("body_base64")) is str:
            out["body_base64"] = self._base64(side["body_base64"], f"{name}.body_base64", found)
        events = side.get("sse_events")
        if streams and type(events) is list and self.config.scan_patterns:
            out["sse_events"] = scrub_split_secrets(events, f"{name}.sse_events", found, self._strings)
        return out

    def _base64(self, data: str, where: str, found: list[Found]) -> str:
        """A binary body: decoded, scanned at byte level, encoded again."""
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return data  # not ours to fix here: the reader reports a bad body
        new = self._strings.scrub_bytes(raw, where, found)
        return data if new == raw else base64.b64encode(new).decode("ascii")
