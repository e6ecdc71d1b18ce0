"""Real provider SDKs recorded at the HTTP level against a fake server, then replayed
offline: server stopped, only loopback reachable, and clients pointed elsewhere.

Every replay goes through a cassette file (save, then ``Recorder.load``), so what is
checked is what a test would get from a committed cassette.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import anthropic
import httpx
import openai
import pytest
import requests
from google import genai
from google.genai import types as genai_types
from opentelemetry.trace import SpanKind

from pyagent_trace import attributes as attr
from pyagent_trace._recording import RecordEntry, save_entries
from pyagent_trace.cost import CostTracker
from pyagent_trace.exceptions import ReplayMismatchError
from pyagent_trace.http import HttpCassette, emit_genai_span, record_cost
from pyagent_trace.recorder import Recorder
from pyagent_trace.scrub import scrub_entry
from pyagent_trace.testing import InMemorySpanExporter, make_test_tracer_provider

OPENAI_KEY = "sk-test-Op3nAIfakeKey0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-test-Anthr0picFakeKey0123456789"
GEMINI_KEY = "AIzaSyFakeGeminiKey0123456789abcdefghij"
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY, "Op3nAIfakeKey", "Anthr0picFakeKey", "FakeGeminiKey",
           "fake-session-cookie")  # fmt: skip
# google-genai's async client subclasses aiohttp.ClientSession, which aiohttp deprecates.
AIOHTTP_SUBCLASS_WARNING = "ignore:Inheritance class AiohttpClientSession from ClientSession:DeprecationWarning"


# -- record, save, stop, block, replay ----------------------------------------------------
@pytest.fixture
def offline(monkeypatch):
    """Replay conditions: connections to anything but loopback are refused."""
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def loopback(host: Any) -> bool:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            return name == "localhost" or ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            raise ConnectionRefusedError(f"test network blocked: {address}")

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if not loopback(host):
            raise socket.gaierror(f"test network blocked: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def record(scenario: Callable[[str], Any], server, **kwargs: Any) -> tuple[Any, list[RecordEntry], str]:
    """Run ``scenario(base_url)`` against the fake server while recording; stop the server."""
    with HttpCassette([], mode="all", **kwargs) as http:
        result = scenario(server.url)
    dead_url = server.url  # nothing listens there once stopped
    server.stop()
    return result, http.recorded, dead_url


def through_file(tmp_path: Path, entries: list[RecordEntry]) -> list[RecordEntry]:
    path = save_entries(tmp_path / "cassette.jsonl", entries)
    return Recorder.load(path)


# -- the SDK scenarios -------------------------------------------------------------------------
def openai_scenario(base_url: str) -> list[Any]:
    with openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{base_url}/v1", max_retries=0) as client:
        messages = [{"role": "user", "content": "What is HTTP?"}]
        chat = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk.model_dump() for chunk in stream]
        response = client.responses.create(model="gpt-4o-mini", input="Say hi", instructions="Be brief.")
        events = [event.model_dump() for event in client.responses.create(model="gpt-4o-mini", input="Hi", stream=True)]
        return [chat.model_dump(), chunks, response.model_dump(), response.output_text, events]


def anthropic_scenario(base_url: str) -> list[Any]:
    with anthropic.Anthropic(api_key=ANTHROPIC_KEY, base_url=base_url, max_retries=0) as client:
        messages = [{"role": "user", "content": "Name a colour"}]
        message = client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=messages, system="Terse.")
        with client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=messages) as stream:
            texts = list(stream.text_stream)
            final = stream.get_final_message()
        return [message.model_dump(), texts, final.model_dump()]


def gemini_scenario(base_url: str) -> list[Any]:
    client = genai.Client(api_key=GEMINI_KEY, http_options=genai_types.HttpOptions(base_url=base_url))
    with client:
        answer = client.models.generate_content(model="gemini-2.5-flash", contents="Why is the sky blue?")
        chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Count to 3"))
    raw = httpx.post(f"{base_url}/v1beta/models/gemini-2.5-flash:generateContent?key={GEMINI_KEY}",
                     json={"contents": [{"role": "user", "parts": [{"text": "key in the query"}]}]})  # fmt: skip
    return [
        answer.text, answer.usage_metadata.model_dump(), answer.model_version,
        [(c.text, c.usage_metadata.model_dump() if c.usage_metadata else None) for c in chunks],
        raw.json(),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("scenario", "replay_url"),
    [
        (openai_scenario, "https://api.openai.com"),
        (anthropic_scenario, None),  # the stopped server's address
        (gemini_scenario, "https://generativelanguage.googleapis.com"),
    ],
)
def test_sdk_calls_replay_identically_offline_whatever_the_host(
    fake_providers, offline, tmp_path, scenario, replay_url
):
    """Recorded against 127.0.0.1, replayed against the real API host with the network blocked."""
    recorded_result, recorded, dead_url = record(scenario, fake_providers)
    with HttpCassette(through_file(tmp_path, recorded), mode="none", source="c.jsonl") as http:
        replayed_result = scenario(replay_url or dead_url)
    assert replayed_result == recorded_result
    assert (http.calls_replayed, http.unused(), http.errors) == (len(recorded), [], [])


@pytest.mark.filterwarnings(AIOHTTP_SUBCLASS_WARNING)
def test_async_sdks_record_and_replay_through_httpx2_and_aiohttp(fake_providers, offline, tmp_path):
    async def scenario(base_url: str) -> list[Any]:
        async with openai.AsyncOpenAI(api_key=OPENAI_KEY, base_url=f"{base_url}/v1", max_retries=0) as oa:
            stream = await oa.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "async?"}], stream=True
            )
            chunks = [c.model_dump() async for c in stream]
        async with anthropic.AsyncAnthropic(api_key=ANTHROPIC_KEY, base_url=base_url, max_retries=0) as an:
            message = await an.messages.create(model="claude-haiku-4-5", max_tokens=9, messages=[
                {"role": "user", "content": "async?"}])  # fmt: skip
        gm = genai.Client(api_key=GEMINI_KEY, http_options=genai_types.HttpOptions(base_url=base_url))
        answer = await gm.aio.models.generate_content(model="gemini-2.5-flash", contents="async?")
        parts = [c.text async for c in await gm.aio.models.generate_content_stream(model="gemini-2.5-flash",
                                                                                 contents="stream?")]  # fmt: skip
        await gm.aio.aclose()
        return [chunks, message.model_dump(), answer.text, parts]

    recorded_result, recorded, dead_url = record(lambda url: asyncio.run(scenario(url)), fake_providers)
    with HttpCassette(through_file(tmp_path, recorded), mode="none") as http:
        assert asyncio.run(scenario(dead_url)) == recorded_result
    assert http.calls_replayed == 4


def test_plain_requests_and_aiohttp_clients_are_recorded_and_replayed_too(fake_providers, offline, tmp_path):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "plain"}]}

    async def with_aiohttp(url: str) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, session.post(f"{url}/v1/chat/completions", json=body) as r:
            return await r.json()

    def scenario(url: str) -> list[Any]:
        return [requests.post(f"{url}/v1/chat/completions", json=body, timeout=5).json(),
                asyncio.run(with_aiohttp(url))]  # fmt: skip

    recorded_result, recorded, dead_url = record(scenario, fake_providers)
    with HttpCassette(through_file(tmp_path, recorded), mode="none"):
        assert scenario(dead_url) == recorded_result
    assert [e.response for e in recorded] == ["Reply 1: plain", "Reply 2: plain"]


def test_streams_are_stored_as_events_and_replayed_chunk_by_chunk(fake_providers, offline, tmp_path):
    def scenario(url: str) -> list[bytes]:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a b c"}], "stream": True}
        with httpx.Client() as client, client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
            return list(response.iter_bytes())

    recorded_chunks, recorded, dead_url = record(scenario, fake_providers)
    events = recorded[0].metadata["http"]["response"]["sse_events"]
    assert [e.encode() for e in events] == recorded_chunks  # one event per chunk, as sent
    assert len(events) == 8
    assert events[-1] == "data: [DONE]\n\n"
    with HttpCassette(through_file(tmp_path, recorded), mode="none"):
        assert scenario(dead_url) == recorded_chunks


# -- what the cassette holds --------------------------------------------------------------------
def test_no_key_or_session_cookie_appears_anywhere_in_the_cassette(fake_providers, tmp_path):
    _, recorded, _ = record(lambda url: [openai_scenario(url), anthropic_scenario(url), gemini_scenario(url)],
                            fake_providers)  # fmt: skip
    text = save_entries(tmp_path / "c.jsonl", recorded).read_text()
    assert [secret for secret in SECRETS if secret in text] == []
    sent = [r["headers"] for r in fake_providers.received]
    assert any(OPENAI_KEY in str(h) for h in sent)  # the keys were really sent
    assert any(GEMINI_KEY in str(h) for h in sent)
    http = recorded[0].metadata["http"]
    assert http["request"]["headers"]["authorization"] == ["<redacted>"]
    assert http["response"]["headers"]["set-cookie"] == ["<redacted>"]
    assert "key=<redacted>" in recorded[-1].metadata["http"]["request"]["url"]
    assert [where for e in recorded for where in scrub_entry(e)[1]] == []  # `pyagent-trace scrub` finds nothing


def test_gzip_responses_are_stored_decoded_and_reviewable(fake_providers):
    _, recorded, _ = record(anthropic_scenario, fake_providers)
    assert all("gzip" in r["headers"]["Accept-Encoding"] for r in fake_providers.received)
    response = recorded[0].metadata["http"]["response"]
    assert "content-encoding" not in response["headers"]
    assert response["body"]["content"] == [{"type": "text", "text": "Reply 1: Name a colour"}]
    assert response["headers"]["content-length"] == [str(len(json.dumps(response["body"])))]  # decoded size


def test_telemetry_is_passed_through_when_recording_and_left_alone_when_replaying(fake_providers, offline):
    def scenario(url: str) -> None:
        with httpx.Client() as client:
            client.post(f"{url}/v1/traces", content=b"\x0a\x00", headers={"content-type": "application/x-protobuf"})
            client.post(f"{url}/api/public/ingestion", json={"batch": []})
            client.post(f"{url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []})

    _, recorded, dead_url = record(scenario, fake_providers)
    assert [r["path"] for r in fake_providers.received] == [
        "/v1/traces",
        "/api/public/ingestion",
        "/v1/chat/completions",
    ]
    assert [e.metadata["http"]["request"]["url"].rsplit("/", 2)[-2:] for e in recorded] == [["chat", "completions"]]
    # It goes to the (dead) network, not to the cassette.
    with HttpCassette(recorded, mode="none") as http, httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.post(f"{dead_url}/v1/traces", content=b"")
    assert http.errors == []


# -- cost, tokens and spans -----------------------------------------------------------------------
EXPECTED_COST = {
    # model: (input incl. cache, output, cache read, cache write, USD from DEFAULT_PRICES)
    "gpt-4o-mini": (120, 30, 100, 0, (20 * 0.15 + 100 * 0.075 + 30 * 0.60) / 1e6),
    "claude-haiku-4-5": (132, 9, 100, 20, (12 * 1.00 + 100 * 0.10 + 20 * 1.25 + 9 * 5.00) / 1e6),
    "gemini-2.5-flash": (30, 8, 10, 0, (20 * 0.30 + 10 * 0.03 + 8 * 2.50) / 1e6),
}


def test_each_call_is_costed_with_its_provider_cache_semantics_when_recorded_and_replayed(fake_providers, offline):
    def scenario(url: str) -> None:
        openai_scenario(url)
        anthropic_scenario(url)
        gemini_scenario(url)

    trackers = CostTracker(), CostTracker()
    _, recorded, dead_url = record(scenario, fake_providers, on_record=lambda e: record_cost(e, trackers[0]))
    with HttpCassette(recorded, mode="none", on_replay=lambda e: record_cost(e, trackers[1])):
        scenario(dead_url)
    for tracker in trackers:
        costs = {(e.model, e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_tokens): e.cost_usd
                 for e in tracker.entries}  # fmt: skip
        assert costs == pytest.approx({(m, *v[:4]): v[4] for m, v in EXPECTED_COST.items()})
        assert (tracker.summary().calls, tracker.summary().unpriced_calls) == (9, 0)
    assert [e.metadata["provider"] for e in recorded] == ["openai"] * 4 + ["anthropic"] * 2 + ["gemini"] * 3


def test_each_call_becomes_the_same_genai_client_span_when_recorded_and_replayed(fake_providers, offline):
    spans = []
    for _ in range(2):
        exporter = InMemorySpanExporter()
        spans.append((exporter, make_test_tracer_provider(exporter)))
    _, recorded, dead_url = record(anthropic_scenario, fake_providers,
                                   on_record=lambda e: emit_genai_span(e, spans[0][1]))  # fmt: skip
    with HttpCassette(recorded, mode="none", on_replay=lambda e: emit_genai_span(e, spans[1][1])):
        anthropic_scenario(dead_url)
    (recorded_spans, replayed_spans) = [exporter.get_finished_spans() for exporter, _ in spans]
    shape = [[(s.name, s.kind, dict(s.attributes or {}), s.end_time - s.start_time) for s in group]
             for group in (recorded_spans, replayed_spans)]  # fmt: skip
    assert shape[0] == shape[1]
    name, kind, attributes, duration = shape[0][0]
    recorded_url = recorded[0].metadata["http"]["request"]["url"]
    assert (name, kind, duration) == ("chat claude-haiku-4-5", SpanKind.CLIENT, round(recorded[0].duration_ms * 1e6))
    assert attributes == {
        attr.GEN_AI_OPERATION_NAME: "chat", attr.GEN_AI_PROVIDER_NAME: "anthropic",
        attr.GEN_AI_REQUEST_MODEL: "claude-haiku-4-5", attr.GEN_AI_RESPONSE_MODEL: "claude-haiku-4-5-20251001",
        attr.GEN_AI_USAGE_INPUT_TOKENS: 132, attr.GEN_AI_USAGE_OUTPUT_TOKENS: 9,
        attr.COST_INPUT_TOKENS: 132, attr.COST_OUTPUT_TOKENS: 9,
        attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 100, attr.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 20,
        attr.COST_TOTAL_USD: pytest.approx(EXPECTED_COST["claude-haiku-4-5"][4]),
        attr.HTTP_RESPONSE_STATUS_CODE: 200,
        attr.GEN_AI_REQUEST_MAX_TOKENS: 64, attr.GEN_AI_RESPONSE_ID: "msg_fake_1",
        attr.GEN_AI_RESPONSE_FINISH_REASONS: ("end_turn",),
        attr.SERVER_ADDRESS: "127.0.0.1", attr.SERVER_PORT: urlsplit(recorded_url).port,
    }  # fmt: skip


def test_a_call_inside_an_agent_span_is_recorded_for_that_agent(fake_providers):
    """(The Anthropic SDK makes its own span current during a call, hiding the agent's: see docs.)"""
    tracer = make_test_tracer_provider(InMemorySpanExporter()).get_tracer("test")
    with tracer.start_as_current_span("invoke_agent writer", attributes={attr.GEN_AI_AGENT_NAME: "writer"}):
        _, recorded, _ = record(openai_scenario, fake_providers)
    assert {e.agent_name for e in recorded} == {"writer"}


def test_an_sdk_call_inside_traced_agent_is_recorded_for_that_agent_whatever_span_the_sdk_opens(fake_providers):
    """The Anthropic SDK makes its own span current; traced_agent's agent name still reaches the entry."""
    from pyagent_trace.spans import traced_agent

    class Writer:
        name = "writer"

        def run(self, url: str) -> list[Any]:
            return anthropic_scenario(url)

    agent = traced_agent(Writer(), tracer_provider=make_test_tracer_provider(InMemorySpanExporter()))
    _, recorded, _ = record(agent.run, fake_providers)
    assert {e.agent_name for e in recorded} == {"writer"}


# -- matching ------------------------------------------------------------------------------------
def test_identical_requests_replay_their_recorded_answers_in_order(fake_providers, offline):
    def scenario(url: str) -> list[str]:
        with openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{url}/v1", max_retries=0) as client:
            ask = [{"role": "user", "content": "Roll a die"}]
            return [client.chat.completions.create(model="gpt-4o-mini", messages=ask).choices[0].message.content
                    for _ in range(3)]  # fmt: skip

    recorded_result, recorded, dead_url = record(scenario, fake_providers)
    assert recorded_result == ["Reply 1: Roll a die", "Reply 2: Roll a die", "Reply 3: Roll a die"]
    with HttpCassette(recorded, mode="none"):
        assert scenario(dead_url) == recorded_result


def test_an_unrecorded_sdk_request_fails_the_test_with_a_diff_not_a_connection_error(fake_providers, offline):
    def ask(url: str, question: str) -> str | None:
        with openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{url}/v1", max_retries=0) as client:
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
            )
            return reply.choices[0].message.content

    _, recorded, dead_url = record(lambda url: ask(url, "Capital of France?"), fake_providers)
    hint = "Run: pytest --record"
    # The SDK wraps the error in APIConnectionError; the cassette raises it again as it closes.
    with (
        pytest.raises(ReplayMismatchError) as info,
        HttpCassette(recorded, source="cassettes/t.jsonl", rerecord_hint=hint),
    ):
        ask(dead_url, "Capital of Spain?")
    message = str(info.value)
    assert message.splitlines()[0] == (
        "HTTP replay (cassette cassettes/t.jsonl): request #1 POST /v1/chat/completions matches no recorded "
        "interaction; nearest is recorded interaction #1:"
    )
    assert '-      "content": "Capital of France?",' in message
    assert '+      "content": "Capital of Spain?",' in message
    assert message.endswith("Run: pytest --record")


def test_mode_new_replays_what_matches_and_records_only_the_rest(fake_providers):
    def ask(question: str) -> str:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]}
        return httpx.post(f"{fake_providers.url}/v1/chat/completions", json=body).json()["choices"][0]["message"][
            "content"]  # fmt: skip

    with HttpCassette([], mode="all") as first:
        ask("old")
    with HttpCassette(first.recorded, mode="new") as second:
        assert [ask("old"), ask("new")] == ["Reply 1: old", "Reply 2: new"]
    assert ([e.response for e in second.recorded], second.calls_replayed) == (["Reply 2: new"], 1)
