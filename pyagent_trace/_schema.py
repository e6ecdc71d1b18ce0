"""The one schema of a cassette line, checked when a line is read and when it is written.

Every entry kind is a ``RecordEntry`` (``llm_call``, ``http_interaction``, pattern and agent
events, JsonlExporter events) plus the ``recording_header`` line. Reading and writing ask
the same question, :func:`entry_problem`, so a file we write is a file we read back. The
bounds live here too and serve the API's argument checks (``validate_tokens``,
``validate_usd``, ``validate_ms``), so a bad value is refused where it is given.

Reading runs this for every entry of every replayed cassette: :func:`entry_problem` is one
chain of type and range tests on the built entry (NaN fails every comparison, so ranges
also prove finiteness); only a failing entry takes the slow path that names the field.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import binascii
import operator
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyagent_trace.exceptions import ConfigError

if TYPE_CHECKING:
    from pyagent_trace._recording import RecordEntry

__all__ = [
    "FIX_HINT",
    "MAX_MS",
    "MAX_TOKENS",
    "MAX_USD",
    "entry_problem",
    "header_problem",
    "validate_ms",
    "validate_tokens",
    "validate_usd",
]

FORMAT_NAME = "pyagent-trace"
MAX_TOKENS = 10**12
"""Tokens of one call: far above any context window, and a million such calls still sum
inside a signed 64-bit integer (what JSON writers and OTel attributes can hold)."""
MAX_USD = 1e9
"""USD of one call: any real price is far below; sums of many stay finite (no fsum overflow)."""
MAX_MS = 1e12
"""Milliseconds (about 30 years): a duration, or a Unix-epoch timestamp in seconds."""
FIX_HINT = "Fix that field, or re-record the cassette (pytest --record-mode=all)."

_NUMBER = (int, float)
_NUMBER_TYPES = frozenset(_NUMBER)
_HTTP = "http_interaction"


# -- arguments given to the API -----------------------------------------------------------------
def validate_tokens(name: str, value: object) -> int:
    """A token count as an int in [0, MAX_TOKENS]. Integral floats pass (JSON gives 450.0);
    bools do not."""
    if isinstance(value, float):
        if not value.is_integer():
            msg = f"{name}={value!r}: a token count must be a whole number."
            raise ConfigError(msg)
        value = int(value)
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        msg = f"{name}={value!r}: a token count must be an int."
        raise TypeError(msg)
    count = operator.index(value)  # also numpy ints and friends
    if count < 0:
        msg = f"{name}={count!r}: a token count cannot be negative."
        raise ConfigError(msg)
    if count > MAX_TOKENS:
        msg = f"{name}={count!r}: more tokens than any call has (at most {MAX_TOKENS:,})."
        raise ConfigError(msg)
    return count


def _finite(name: str, value: object, limit: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, _NUMBER):
        msg = f"{name}={value!r}: {what} must be a number (int or float), not {type(value).__name__}."
        raise ConfigError(msg)
    number = float(value)
    if not 0.0 <= number <= limit:  # NaN fails too
        msg = f"{name}={value!r}: {what} must be finite, at least 0 and at most {limit:g}."
        raise ConfigError(msg)
    return number


def validate_usd(name: str, value: object) -> float:
    """A cost in USD: a finite number in [0, MAX_USD] (not a bool, not a string)."""
    return _finite(name, value, MAX_USD, "a cost in USD")


def validate_ms(name: str, value: object) -> float:
    """A duration in milliseconds: a finite number in [0, MAX_MS]."""
    return _finite(name, value, MAX_MS, "a duration in ms")


# -- lines of a file ----------------------------------------------------------------------------
def _all_dicts(items: list[Any]) -> bool:  # a loop: twice as fast as all(<genexpr>) here
    for item in items:  # noqa: SIM110
        if type(item) is not dict:
            return False
    return True


def entry_problem(e: RecordEntry) -> str | None:
    """What is wrong with an entry (``'field' must be …, found …``), or None.

    The fast path is one expression; it fails on anything the slow path below names.
    """
    if (
        type(e.event_type) is str
        and type(e.agent_name) is str
        and type(e.pattern_type) is str
        and type(e.model) is str
        and type(e.response) is str
        and type(e.tokens_estimated) is bool
        and type(e.priced) is bool
        and type(e.metadata) is dict
        and type(e.messages) is list
        and type(e.input_tokens) is int
        and type(e.output_tokens) is int
        and type(e.tokens) is int
        and 0 <= e.input_tokens <= MAX_TOKENS
        and 0 <= e.output_tokens <= MAX_TOKENS
        and 0 <= e.tokens <= 2 * MAX_TOKENS
        and type(e.cost_usd) in _NUMBER_TYPES
        and type(e.duration_ms) in _NUMBER_TYPES
        and type(e.timestamp) in _NUMBER_TYPES
        and 0.0 <= e.cost_usd <= MAX_USD
        and 0.0 <= e.duration_ms <= MAX_MS
        and 0.0 <= e.timestamp <= MAX_MS
        and _all_dicts(e.messages)
    ):
        return _http_problem(e.metadata) if e.event_type == _HTTP else None
    return _field_problem(e)


def _shown(value: object) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_problem(e: RecordEntry) -> str:
    """The first field that fails :func:`entry_problem`'s fast path, named."""
    for name in ("event_type", "agent_name", "pattern_type", "model", "response"):
        value = getattr(e, name)
        if type(value) is not str:
            return f"'{name}' must be a string, found {_shown(value)}"
    for name in ("tokens_estimated", "priced"):
        value = getattr(e, name)
        if type(value) is not bool:
            return f"'{name}' must be true or false, found {_shown(value)}"
    if type(e.metadata) is not dict:
        return f"'metadata' must be a JSON object, found {_shown(e.metadata)}"
    if type(e.messages) is not list:
        return f"'messages' must be a list of message objects, found {_shown(e.messages)}"
    for index, message in enumerate(e.messages):
        if type(message) is not dict:
            return f"'messages[{index}]' must be a message object, found {_shown(message)}"
    for name, limit in (("input_tokens", MAX_TOKENS), ("output_tokens", MAX_TOKENS), ("tokens", 2 * MAX_TOKENS)):
        value = getattr(e, name)
        if type(value) is not int or not 0 <= value <= limit:
            return f"'{name}' must be a whole number from 0 to {limit:,}, found {_shown(value)}"
    for name, bound in (("cost_usd", MAX_USD), ("duration_ms", MAX_MS), ("timestamp", MAX_MS)):
        number = getattr(e, name)
        if type(number) not in _NUMBER_TYPES:
            return f"'{name}' must be a number, found {_shown(number)}"
        if not 0.0 <= number <= bound:
            return f"'{name}' must be a finite number from 0 to {bound:g}, found {_shown(number)}"
    return "the entry does not match the cassette schema"  # unreachable: the fast path passed


def _http_problem(metadata: Mapping[str, Any]) -> str | None:
    """What an ``http_interaction`` needs to replay: a request to match and a response to give."""
    http = metadata.get("http")
    if type(http) is not dict:
        return f"'metadata.http' must be the recorded interaction (an object), found {_shown(http)}"
    for side in ("request", "response"):
        part = http.get(side)
        if type(part) is not dict:
            return f"'metadata.http.{side}' must be an object (an HTTP entry replays its {side}), found {_shown(part)}"
        problem = _side_problem(side, part)
        if problem is not None:
            return problem
    request, response = http["request"], http["response"]
    for key in ("method", "url"):
        if type(request.get(key, "")) is not str:
            return f"'metadata.http.request.{key}' must be a string, found {_shown(request.get(key))}"
    status = response.get("status", 200)
    if type(status) is not int or not 0 <= status <= 999:
        return f"'metadata.http.response.status' must be an HTTP status code, found {_shown(status)}"
    return None


def _strings(items: object) -> bool:
    """A list of strings; ``str.join`` checks the items in C (a stream has hundreds)."""
    if type(items) is not list:
        return False
    try:
        "".join(items)
    except TypeError:
        return False
    return True


def _side_problem(side: str, part: dict[str, Any]) -> str | None:
    headers = part.get("headers")
    if headers is not None and type(headers) is not dict:
        return f"'metadata.http.{side}.headers' must be an object, found {_shown(headers)}"
    events = part.get("sse_events")
    if events is not None and not _strings(events):
        return f"'metadata.http.{side}.sse_events' must be a list of strings, found {_shown(events)}"
    if "body_base64" in part:
        data = part["body_base64"]
        try:
            if type(data) is not str:
                raise TypeError
            binascii.a2b_base64(data, strict_mode=True)
        except (TypeError, ValueError):
            return f"'metadata.http.{side}.body_base64' must be valid base64, found {_shown(data)}"
    return None


def header_problem(row: Mapping[str, Any], newest: int) -> str | None:
    """What is wrong with a ``recording_header`` line, or None. ``newest``: the version we write."""
    name = row.get("format", FORMAT_NAME)
    if name != FORMAT_NAME:
        return (
            f"'format' is {_shown(name)}: this is not a pyagent-trace cassette (its header must say "
            f"{FORMAT_NAME!r}). Give a pyagent-trace file, or re-record it (pytest --record-mode=all)."
        )
    if "format_version" not in row:
        return f"the header has no 'format_version'. Add \"format_version\": {newest}, or re-record the cassette."
    version = row["format_version"]
    if type(version) is not int:
        return f"'format_version' must be a whole number, found {_shown(version)}. {FIX_HINT}"
    if version > newest:
        return (
            f"recording format version {version} is newer than this pyagent-trace reads "
            f"({newest}); upgrade pyagent-trace."
        )
    if version < 1:
        return f"'format_version' {version} is not a version pyagent-trace ever wrote (1 to {newest}). {FIX_HINT}"
    return None
