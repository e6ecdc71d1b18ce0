"""The LLM callable ``cassette.llm()`` hands out, and how it reads a real LLM's answer.

It replays through the test's ``Cassette``, records through the real callable, or both
(mode new); the cassette keeps the entries and writes the file.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextvars
import inspect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyagent_trace._messages import to_plain_messages
from pyagent_trace._recording import LLM_CALL, RecordEntry
from pyagent_trace._schema import validate_tokens
from pyagent_trace._tokens import count_tokens
from pyagent_trace.exceptions import ConfigError, PyAgentTraceError, ReplayExhaustedError

if TYPE_CHECKING:
    from pyagent_trace.cassette._cassette import Cassette
    from pyagent_trace.pricing import PriceTable

__all__ = ["INSIDE_LLM", "CassetteLLM", "Reply", "read_reply", "recorded_call"]

INSIDE_LLM: contextvars.ContextVar[list[RecordEntry] | None] = contextvars.ContextVar(
    "pyagent_trace_inside_cassette_llm", default=None
)
"""While ``cassette.llm()`` records a call, the provider HTTP calls its callable makes.

One call is one call: the LLM level owns it (replay answers it without running the
callable, so no HTTP happens then), and the HTTP calls made while recording give it
their real usage, provider and cost instead of becoming entries of their own."""


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    input_tokens: int | None
    output_tokens: int | None


def _usage_number(usage: Any, *names: str) -> int | None:
    for name in names:
        value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
        if isinstance(value, int):
            try:  # refused here, at the call, not when the cassette is written
                return validate_tokens(f"usage.{name}", value)
            except (TypeError, ConfigError) as err:
                msg = f"The real LLM reported {err}"
                raise ConfigError(msg) from None
    return None


def read_reply(result: Any) -> Reply:
    """The text and, when the callable reports it, the usage of an LLM callable's result."""
    if isinstance(result, str):
        return Reply(result, None, None)

    def get(key: str) -> Any:
        return result.get(key) if isinstance(result, dict) else getattr(result, key, None)

    text = get("content") if isinstance(get("content"), str) else get("text")
    if not isinstance(text, str):
        msg = (
            f"The real LLM returned {type(result).__name__}, not text. cassette.llm() records "
            "callables that return a str (or an object with a str .content/.text)."
        )
        raise ConfigError(msg)
    usage = get("usage")
    if usage is None:
        return Reply(text, None, None)
    return Reply(
        text,
        _usage_number(usage, "input_tokens", "prompt_tokens"),
        _usage_number(usage, "output_tokens", "completion_tokens"),
    )


def _model_of(llm: Any) -> str | None:
    for name in ("_model", "model", "model_name", "_default_model", "default_model"):
        value = getattr(llm, name, None)
        if isinstance(value, str) and value:
            return value
    return None


class CassetteLLM:
    """The LLM callable ``cassette.llm()`` hands out: replays, records, or both (mode new)."""

    def __init__(self, cassette: Cassette, agent_name: str, real_llm: Any, model: str | None) -> None:
        self._cassette = cassette
        self.agent_name = agent_name
        self._real = real_llm
        self._model = model or _model_of(real_llm) or cassette.recorded_model(agent_name) or "unknown"

    async def __call__(self, messages: Any) -> str:
        try:
            return await self._answer(messages)
        except PyAgentTraceError as err:  # remembered: code that swallows it cannot hide it
            self._cassette.errors.append(err)
            raise

    async def _answer(self, messages: Any) -> str:
        cassette = self._cassette
        replay = cassette.replay_for(self.agent_name)
        if replay is not None:
            try:
                return replay.replay(messages).response
            except ReplayExhaustedError:
                if not cassette.records_missing:
                    raise
            except AssertionError:  # a mismatch: in mode new it is a call to record
                if not cassette.records_missing:
                    raise
        elif not cassette.recording:
            raise cassette.no_calls_for(self.agent_name, messages)
        return await self._record(messages)

    async def complete(self, messages: Any, model: str | None = None) -> str:
        """pyagent-providers ``ProviderProtocol.complete``."""
        return await self(messages)

    async def _record(self, messages: Any) -> str:
        if self._real is None:
            msg = (
                f"cassette.llm(agent_name={self.agent_name!r}) has no real LLM to record with in "
                f"record mode {self._cassette.mode.value!r}: pass it, e.g. "
                f"cassette.llm(OpenAIProvider(), agent_name={self.agent_name!r})."
            )
            raise ConfigError(msg)
        started = time.perf_counter()
        inside: list[RecordEntry] = []
        token = INSIDE_LLM.set(inside)
        try:
            result = self._real(messages)
            if inspect.isawaitable(result):
                result = await result
        finally:
            INSIDE_LLM.reset(token)
        duration_ms = (time.perf_counter() - started) * 1000
        reply = read_reply(result)
        self._cassette.add_recorded(self.agent_name, self._model, messages, reply, duration_ms, inside)
        return reply.text


def recorded_call(
    agent: str,
    model: str,
    messages: Any,
    reply: Reply,
    duration_ms: float,
    http_calls: list[RecordEntry] | None,
    *,
    prices: PriceTable,
    recorded_by: str | None,
) -> RecordEntry:
    """The ``llm_call`` entry of one recorded call. ``http_calls`` are the provider calls
    the callable made (see ``INSIDE_LLM``): their reported usage, provider and cost are the
    call's own; without them the callable's reported usage, else an estimate from the text."""
    now = time.time()
    plain = to_plain_messages(messages)
    calls = [e for e in http_calls or () if not e.tokens_estimated]
    metadata: dict[str, Any] = {"recorded_by": recorded_by} if recorded_by else {}
    cost: float | None
    if calls:
        input_tokens = sum(e.input_tokens for e in calls)
        output_tokens = sum(e.output_tokens for e in calls)
        model = calls[-1].model or model
        cost = sum(e.cost_usd for e in calls) if all(e.priced for e in calls) else None
        estimated = False
        metadata |= {
            "provider": calls[-1].metadata.get("provider", ""),
            "cache_read_tokens": sum(int(e.metadata.get("cache_read_tokens") or 0) for e in calls),
            "cache_write_tokens": sum(int(e.metadata.get("cache_write_tokens") or 0) for e in calls),
        }
        reasoning = sum(int(e.metadata.get("reasoning_tokens") or 0) for e in calls)
        if reasoning:
            metadata["reasoning_tokens"] = reasoning
        for key in ("response_id", "finish_reasons"):  # the answer is the last call's
            if key in calls[-1].metadata:
                metadata[key] = calls[-1].metadata[key]
    else:
        estimated = reply.input_tokens is None or reply.output_tokens is None
        input_tokens = (
            reply.input_tokens
            if reply.input_tokens is not None
            else sum(count_tokens(str(m.get("content", ""))) for m in plain)
        )
        output_tokens = reply.output_tokens if reply.output_tokens is not None else count_tokens(reply.text)
        cost = prices.cost(model, input_tokens, output_tokens, at=now)
    return RecordEntry(
        LLM_CALL,
        agent_name=agent,
        model=model,
        timestamp=now,
        duration_ms=round(duration_ms, 3),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        tokens=input_tokens + output_tokens,
        cost_usd=round(cost or 0.0, 12),
        tokens_estimated=estimated,
        priced=cost is not None,
        messages=plain,
        response=reply.text,
        metadata=metadata,
    )
