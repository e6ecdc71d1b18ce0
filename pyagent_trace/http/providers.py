"""What an HTTP interaction with an LLM provider means: who, which model, how many tokens.

Recognised by the request path and body, never by host, so a call through a proxy, a
gateway or an OpenAI-compatible server is understood too (it is reported in the
dialect it speaks: ``openai`` for ``/chat/completions``). Token counts are canonical,
as :class:`~pyagent_trace.cost.CostTracker` and ``gen_ai.usage.input_tokens`` mean
them: ``input_tokens`` includes cached tokens, and the cache counts are subsets of it.
Each provider reports them differently, which is where cost tools go wrong:

* OpenAI chat completions: ``prompt_tokens`` already includes
  ``prompt_tokens_details.cached_tokens``; Responses API likewise with
  ``input_tokens_details.cached_tokens``.
* Anthropic messages: ``input_tokens`` *excludes* ``cache_read_input_tokens`` and
  ``cache_creation_input_tokens``, so canonical input is the sum of the three.
* Gemini generateContent: ``promptTokenCount`` includes ``cachedContentTokenCount``;
  output is ``candidatesTokenCount`` plus ``thoughtsTokenCount`` (billed as output).

Streams carry usage in events: OpenAI's last chunk (``stream_options.include_usage``)
or ``response.completed``, Anthropic's ``message_start`` then ``message_delta``,
Gemini's last chunk's ``usageMetadata``.

The GenAI span attributes beyond usage come from here too, one reader per API: the
sampling parameters of the request (``max_tokens`` is ``max_completion_tokens`` or
``max_tokens`` in chat, ``max_output_tokens`` in Responses, ``generationConfig`` in
Gemini), the response id and the finish reasons as the provider words them (a chat
choice's ``finish_reason``, Anthropic's ``stop_reason``, Gemini's ``finishReason``; the
Responses API has none, so its ``incomplete_details.reason`` or else its ``status``).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from pyagent_trace.usage import Usage

__all__ = [
    "ProviderCall",
    "RequestParams",
    "Usage",
    "detect_api",
    "parse_call",
    "parse_sse_data",
    "request_params",
    "usage_from",
]

_GEMINI_PATH = re.compile(r"/models/(?P<model>[^/:]+):(?:stream)?[gG]enerateContent$")


@dataclass(frozen=True, slots=True)
class RequestParams:
    """The request's sampling parameters the GenAI conventions name; None: not sent."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stream: bool = False


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """One understood provider call; ``usage`` is None when the response reported none."""

    provider: str
    operation: str
    request_model: str
    response_model: str = ""
    usage: Usage | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    response_id: str = ""
    finish_reasons: tuple[str, ...] = ()
    params: RequestParams = field(default_factory=RequestParams)


def _int(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _canonical(inp: int, out: int, read: int, write: int, reasoning: int = 0) -> Usage:
    # A provider that reports cache counts above the total would make the price negative.
    return Usage(max(inp, read + write), max(out, reasoning), read, write, reasoning)


def _openai_chat_usage(u: Mapping[str, Any]) -> Usage:
    details = _dict(u.get("prompt_tokens_details"))
    completion = _dict(u.get("completion_tokens_details"))
    return _canonical(
        _int(u.get("prompt_tokens")), _int(u.get("completion_tokens")),
        _int(details.get("cached_tokens")), _int(details.get("cache_write_tokens")),
        _int(completion.get("reasoning_tokens")),
    )  # fmt: skip


def _openai_responses_usage(u: Mapping[str, Any]) -> Usage:
    details = _dict(u.get("input_tokens_details"))
    output = _dict(u.get("output_tokens_details"))
    return _canonical(
        _int(u.get("input_tokens")), _int(u.get("output_tokens")),
        _int(details.get("cached_tokens")), _int(details.get("cache_write_tokens")),
        _int(output.get("reasoning_tokens")),
    )  # fmt: skip


def _anthropic_usage(u: Mapping[str, Any]) -> Usage:
    read, write = _int(u.get("cache_read_input_tokens")), _int(u.get("cache_creation_input_tokens"))
    return Usage(_int(u.get("input_tokens")) + read + write, _int(u.get("output_tokens")), read, write)


def _gemini_usage(u: Mapping[str, Any]) -> Usage:
    inp = _int(u.get("promptTokenCount")) + _int(u.get("toolUsePromptTokenCount"))
    thoughts = _int(u.get("thoughtsTokenCount"))
    out = _int(u.get("candidatesTokenCount")) + thoughts
    return _canonical(inp, out, _int(u.get("cachedContentTokenCount")), 0, thoughts)


_USAGE: Mapping[str, Callable[[Mapping[str, Any]], Usage]] = {
    "chat": _openai_chat_usage,
    "responses": _openai_responses_usage,
    "messages": _anthropic_usage,
    "generate_content": _gemini_usage,
}


def usage_from(operation: str, usage: Mapping[str, Any]) -> Usage:
    """Canonical usage from one provider's ``usage`` object (see the module docstring)."""
    return _USAGE[operation](usage)


@functools.lru_cache(maxsize=256)  # a handful of endpoints, asked again for every call
def _path(url: str) -> str:
    return urlsplit(url).path


def detect_api(method: str, url: str, body: Any) -> tuple[str, str, str] | None:
    """``(provider, operation, request model)`` of an LLM API call, or None for other traffic."""
    if method.upper() != "POST" or type(body) is not dict:
        return None
    path = _path(url)
    model = body.get("model")
    model = model if isinstance(model, str) else ""
    if path.endswith("/chat/completions"):
        return "openai", "chat", model
    if path.endswith("/responses"):
        return "openai", "responses", model
    if path.endswith("/messages") and "messages" in body and model:
        return "anthropic", "messages", model
    match = _GEMINI_PATH.search(path)
    if match:
        return "gemini", "generate_content", match["model"]
    return None


# -- request parameters ------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) else None


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _params(operation: str, body: Mapping[str, Any], path: str) -> RequestParams:
    if operation == "generate_content":
        config = _dict(body.get("generationConfig") or body.get("generation_config"))
        return RequestParams(
            _count(config.get("maxOutputTokens", config.get("max_output_tokens"))),
            _number(config.get("temperature")),
            _number(config.get("topP", config.get("top_p"))),
            path.endswith(":streamGenerateContent"),
        )
    if operation == "chat":
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
    else:  # responses: max_output_tokens; Anthropic messages: max_tokens
        limit = body.get("max_output_tokens" if operation == "responses" else "max_tokens")
    return RequestParams(_count(limit), _number(body.get("temperature")), _number(body.get("top_p")),
                         body.get("stream") is True)  # fmt: skip


def request_params(request: Mapping[str, Any]) -> RequestParams:
    """The sampling parameters of a stored request (all None for other traffic): dict
    lookups only, cheap enough for every replayed call's span."""
    body, url = request.get("body"), str(request.get("url", ""))
    api = detect_api(str(request.get("method", "")), url, body)
    if api is None or type(body) is not dict:
        return RequestParams()
    return _params(api[1], body, _path(url))


# -- response id and finish reasons -------------------------------------------------------------
def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _responses_finish(response: Mapping[str, Any]) -> tuple[str, ...]:
    reason = _string(_dict(response.get("incomplete_details")).get("reason")) or _string(response.get("status"))
    return (reason,) if reason else ()


def _outcome(operation: str, body: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(response id, finish reasons) of a whole (non-streamed) response body."""
    if operation == "generate_content":
        candidates = body.get("candidates") or ()
        return _string(body.get("responseId")), tuple(
            r for c in candidates if (r := _string(_dict(c).get("finishReason")))
        )
    if operation == "chat":
        choices = body.get("choices") or ()
        return _string(body.get("id")), tuple(r for c in choices if (r := _string(_dict(c).get("finish_reason"))))
    if operation == "responses":
        return _string(body.get("id")), _responses_finish(body)
    reason = _string(body.get("stop_reason"))
    return _string(body.get("id")), (reason,) if reason else ()


# -- request messages, as plain {"role", "content"} dicts -----------------------------------
def _parts_text(parts: Any) -> Any:
    if type(parts) is not list:
        return parts
    if all(type(p) is dict and set(p) <= {"text", "type"} and type(p.get("text")) is str for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _messages(operation: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if operation == "generate_content":
        instruction = _dict(body.get("systemInstruction") or body.get("system_instruction"))
        if instruction:
            out.append({"role": "system", "content": _parts_text(instruction.get("parts"))})
        contents = body.get("contents")
        for item in contents if type(contents) is list else []:
            if type(item) is dict:
                out.append({"role": item.get("role", "user"), "content": _parts_text(item.get("parts"))})
        return out
    system = body.get("instructions") if operation == "responses" else body.get("system")
    if system:
        out.append({"role": "system", "content": _parts_text(system)})
    items = body.get("input") if operation == "responses" else body.get("messages")
    if isinstance(items, str):
        return [*out, {"role": "user", "content": items}]
    for item in items if type(items) is list else []:
        if type(item) is dict and "role" in item:
            out.append({**item, "content": _parts_text(item.get("content"))})
    return out


# -- response text, model and usage ---------------------------------------------------------
def _text_of(operation: str, body: Mapping[str, Any]) -> str:
    texts: list[str] = []
    if operation == "chat":
        for choice in (body.get("choices") or ())[:1]:
            content = _dict(_dict(choice).get("message")).get("content")
            texts.append(content if isinstance(content, str) else "")
    elif operation == "responses":
        for item in body.get("output") or ():
            if _dict(item).get("type") == "message":
                texts += [c.get("text", "") for c in item.get("content") or () if _dict(c).get("type") == "output_text"]
    elif operation == "messages":
        texts += [b.get("text", "") for b in body.get("content") or () if _dict(b).get("type") == "text"]
    else:
        for candidate in (body.get("candidates") or ())[:1]:
            parts = _dict(_dict(candidate).get("content")).get("parts") or ()
            texts += [p["text"] for p in parts if isinstance(_dict(p).get("text"), str) and not p.get("thought")]
    return "".join(t for t in texts if isinstance(t, str))


def _usage_object(operation: str, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    usage = body.get("usageMetadata" if operation == "generate_content" else "usage")
    return usage if isinstance(usage, Mapping) else None


def _model_of(operation: str, body: Mapping[str, Any]) -> str:
    model = body.get("modelVersion" if operation == "generate_content" else "model")
    return model if isinstance(model, str) else ""


def parse_sse_data(events: Sequence[str]) -> list[dict[str, Any]]:
    """The JSON objects of SSE events' ``data:`` lines (``[DONE]`` and non-JSON skipped)."""
    out: list[dict[str, Any]] = []
    for event in events:
        lines = [line[5:].removeprefix(" ") for line in event.splitlines() if line.startswith("data:")]
        if not lines or lines == ["[DONE]"]:
            continue
        try:
            value = orjson.loads("\n".join(lines))
        except orjson.JSONDecodeError:
            continue
        if type(value) is dict:
            out.append(value)
    return out


@dataclass(slots=True)
class _Streamed:
    """What a stream's events add up to."""

    model: str = ""
    texts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    response_id: str = ""
    finish: dict[int, str] = field(default_factory=dict)  # by choice / candidate index


def _from_stream(operation: str, events: list[dict[str, Any]]) -> _Streamed:
    """Model, text, usage, response id and finish reasons of a stream's parsed events."""
    out = _Streamed()
    merged: dict[str, Any] = {}  # Anthropic: message_start usage, updated by message_delta
    for event in events:
        kind = event.get("type")
        if operation == "chat":
            out.model = _model_of(operation, event) or out.model
            out.response_id = out.response_id or _string(event.get("id"))
            for position, choice in enumerate(event.get("choices") or ()):
                choice = _dict(choice)
                index = choice.get("index", position)
                if _string(choice.get("finish_reason")):
                    out.finish[index if type(index) is int else position] = choice["finish_reason"]
                if index in (0, None):
                    content = _dict(choice.get("delta")).get("content")
                    out.texts.append(content if isinstance(content, str) else "")
            found = event.get("usage")
            out.usage = usage_from(operation, found) if isinstance(found, Mapping) else out.usage
        elif operation == "responses":
            if kind == "response.output_text.delta" and isinstance(event.get("delta"), str):
                out.texts.append(event["delta"])
            response = _dict(event.get("response"))
            out.model = _model_of(operation, response) or out.model
            out.response_id = out.response_id or _string(response.get("id"))
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                found = _usage_object(operation, response)
                out.usage = usage_from(operation, found) if found else out.usage
                out.texts = out.texts or [_text_of(operation, response)]
                out.finish = dict(enumerate(_responses_finish(response)))
        elif operation == "messages":
            message = _dict(event.get("message"))
            out.model = _model_of(operation, message) or out.model
            out.response_id = out.response_id or _string(message.get("id"))
            merged.update(_dict(message.get("usage")) if kind == "message_start" else _dict(event.get("usage")))
            delta = _dict(event.get("delta"))
            if kind == "content_block_delta" and delta.get("type") == "text_delta":
                out.texts.append(str(delta.get("text", "")))
            if kind == "message_delta" and _string(delta.get("stop_reason")):
                out.finish[0] = delta["stop_reason"]
        else:
            out.model = _model_of(operation, event) or out.model
            out.response_id = out.response_id or _string(event.get("responseId"))
            out.texts.append(_text_of(operation, event))
            found = _usage_object(operation, event)
            out.usage = usage_from(operation, found) if found else out.usage
            for position, candidate in enumerate(event.get("candidates") or ()):
                candidate = _dict(candidate)
                index = candidate.get("index", position)
                if _string(candidate.get("finishReason")):
                    out.finish[index if type(index) is int else position] = candidate["finishReason"]
    if merged:
        out.usage = usage_from(operation, merged)
    return out


def parse_call(request: Mapping[str, Any], response: Mapping[str, Any]) -> ProviderCall | None:
    """The provider call in a stored interaction, or None when it is not an LLM API call."""
    body = request.get("body")
    url = str(request.get("url", ""))
    api = detect_api(str(request.get("method", "")), url, body)
    if api is None or type(body) is not dict:
        return None
    provider, operation, request_model = api
    messages = _messages(operation, body)
    params = _params(operation, body, _path(url))
    events = response.get("sse_events")
    if events:
        streamed = _from_stream(operation, parse_sse_data(events))
        finish = tuple(streamed.finish[index] for index in sorted(streamed.finish))
        return ProviderCall(provider, operation, request_model, streamed.model, streamed.usage, messages,
                            "".join(streamed.texts), streamed.response_id, finish, params)  # fmt: skip
    answer = _dict(response.get("body"))
    found = _usage_object(operation, answer)
    usage = usage_from(operation, found) if found else None
    response_id, finish = _outcome(operation, answer)
    return ProviderCall(provider, operation, request_model, _model_of(operation, answer), usage, messages,
                        _text_of(operation, answer), response_id, finish, params)  # fmt: skip
