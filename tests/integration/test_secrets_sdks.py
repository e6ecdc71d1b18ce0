"""No secret reaches a cassette file, whatever way it travels: recorded through the real
openai, anthropic and google-genai SDKs against the fake provider (streamed in pieces,
echoed back, in a binary body, through a configured header), and at the LLM level."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from pyagent_trace.cassette import Cassette
from pyagent_trace.scrub import ScrubConfig

OPENAI_KEY = "sk-proj-" + "Q7w8E9r0T1y2U3i4O5p6A7s8D9f0G1h2"
ANTHROPIC_KEY = "sk-ant-api03-" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1"
GOOGLE_KEY = "AIzaSy" + "B1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q"
SDK_KEYS = ("sk-test-Op3nAIfakeKey0123456789abcdef", "sk-ant-test-Anthr0picFakeKey0123456789",
            "AIzaSyFakeGeminiKey0123456789abcdefghij")  # fmt: skip
TENANT_VALUE = "tenant-value-7f3a9c21e8"  # not key-shaped: only its header name makes it secret


def windows(secret: str, size: int = 8) -> set[str]:
    """Every piece of ``size`` characters of a secret: none may be left in the file."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def leaked(path: Path, *secrets: str) -> list[str]:
    text = path.read_text()
    return sorted(piece for secret in secrets for piece in windows(secret) if piece in text)


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()][1:]


def ask_all(url: str, prompt_for: dict[str, str], *, stream: bool) -> list[str]:
    """One call per SDK (streamed or not); returns the texts the SDKs assembled."""
    out = []
    with openai.OpenAI(api_key=SDK_KEYS[0], base_url=f"{url}/v1", max_retries=0) as client:
        messages: Any = [{"role": "user", "content": prompt_for["openai"]}]
        if stream:
            chunks = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
            out.append("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))
        else:
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
            out.append(reply.choices[0].message.content or "")
    with anthropic.Anthropic(api_key=SDK_KEYS[1], base_url=url, max_retries=0) as claude:
        messages = [{"role": "user", "content": prompt_for["anthropic"]}]
        if stream:
            with claude.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=messages) as events:
                out.append("".join(events.text_stream))
        else:
            message = claude.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=messages)
            out.append(message.content[0].text)  # type: ignore[union-attr]
    with genai.Client(api_key=SDK_KEYS[2], http_options=genai_types.HttpOptions(base_url=url)) as gemini:
        if stream:
            parts = gemini.models.generate_content_stream(model="gemini-2.5-flash", contents=prompt_for["gemini"])
            out.append("".join(p.text or "" for p in parts))
        else:
            answer = gemini.models.generate_content(model="gemini-2.5-flash", contents=prompt_for["gemini"])
            out.append(answer.text or "")
    return out


PROMPTS = {"openai": f"repeat {OPENAI_KEY} please", "anthropic": f"repeat {ANTHROPIC_KEY} please",
           "gemini": f"repeat {GOOGLE_KEY} please"}  # fmt: skip


def test_a_key_streamed_back_in_pieces_is_in_no_event_and_not_in_the_assembled_text(fake_providers, tmp_path):
    fake_providers.chunk_chars = 5  # every key is cut across several SSE events
    path = tmp_path / "c.jsonl"
    with Cassette(path, mode="all"):
        live = ask_all(fake_providers.url, PROMPTS, stream=True)
    assert [key in text for key, text in zip((OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY), live, strict=True)] == [True] * 3
    assert leaked(path, OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY, *SDK_KEYS) == []
    responses = [row["response"] for row in rows(path)]
    assert responses == [
        "Reply 1: repeat <redacted:openai-key> please",
        "Reply 2: repeat <redacted:anthropic-key> please",
        "Reply 3: repeat <redacted:google-api-key> please",
    ]
    fake_providers.stop()
    with Cassette(path):  # replays offline: the SDKs assemble the redacted text from the events
        assert ask_all("http://127.0.0.1:9", PROMPTS, stream=True) == responses


def test_a_key_echoed_in_a_plain_response_is_redacted_in_body_and_text(fake_providers, tmp_path):
    path = tmp_path / "c.jsonl"
    with Cassette(path, mode="all"):
        ask_all(fake_providers.url, PROMPTS, stream=False)
    assert leaked(path, OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY, *SDK_KEYS) == []
    first = rows(path)[0]
    assert first["metadata"]["http"]["response"]["body"]["choices"][0]["message"]["content"] == (
        "Reply 1: repeat <redacted:openai-key> please"
    )


def test_a_configured_header_is_redacted_wherever_its_value_is_echoed(fake_providers, tmp_path):
    """``pyagent_trace_scrub_headers = x-tenant``: the value goes from the header, the
    response's echo header, the response body and the entry's text."""
    fake_providers.echo_header = "x-tenant"
    path = tmp_path / "c.jsonl"
    headers = {"x-tenant": TENANT_VALUE}
    with Cassette(path, mode="all", scrub=ScrubConfig().with_extra(headers=["x-tenant"])):
        with openai.OpenAI(api_key=SDK_KEYS[0], base_url=f"{fake_providers.url}/v1", default_headers=headers) as oa:
            oa.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        with anthropic.Anthropic(api_key=SDK_KEYS[1], base_url=fake_providers.url, default_headers=headers) as an:
            an.messages.create(model="claude-haiku-4-5", max_tokens=9, messages=[{"role": "user", "content": "hi"}])
    assert TENANT_VALUE in str(fake_providers.received[0]["headers"])
    assert leaked(path, TENANT_VALUE) == []
    http = rows(path)[0]["metadata"]["http"]
    assert http["request"]["headers"]["x-tenant"] == ["<redacted>"]
    assert http["response"]["headers"]["x-echo"] == ["<redacted:x-tenant>"]
    assert rows(path)[1]["response"] == "Reply 2: x-tenant is <redacted:x-tenant>"


def test_a_key_in_a_body_that_is_not_utf8_is_redacted_at_byte_level(fake_providers, tmp_path):
    path = tmp_path / "c.jsonl"
    with Cassette(path, mode="all"):
        raw = httpx.post(f"{fake_providers.url}/v1/binary", json={"echo": OPENAI_KEY}).content
    assert OPENAI_KEY.encode() in raw
    response = rows(path)[0]["metadata"]["http"]["response"]
    assert base64.b64decode(response["body_base64"]) == b"\xff\xfe\x00 <redacted:openai-key> \xff"
    assert leaked(path, OPENAI_KEY) == []


def test_llm_level_calls_are_scrubbed_in_messages_and_response(tmp_path):
    async def real_llm(messages: list[dict[str, Any]]) -> str:
        return f"your key {ANTHROPIC_KEY} and token {GOOGLE_KEY}"

    path = tmp_path / "c.jsonl"
    with Cassette(path, mode="all") as cassette:
        llm = cassette.llm(real_llm, agent_name="writer", model="gpt-4o-mini")
        asyncio.run(llm([{"role": "user", "content": f"use {OPENAI_KEY}", "api_key": "hunter2-hunter2"}]))
    assert leaked(path, OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY, "hunter2-hunter2") == []
    (entry,) = rows(path)
    assert entry["messages"] == [{"role": "user", "content": "use <redacted:openai-key>", "api_key": "<redacted>"}]
    assert entry["response"] == "your key <redacted:anthropic-key> and token <redacted:google-api-key>"


def test_a_value_learnt_from_a_later_call_is_redacted_in_an_earlier_one_at_write_time(fake_providers, tmp_path):
    async def real_llm(messages: list[dict[str, Any]]) -> str:
        return f"the tenant is {TENANT_VALUE}"

    path = tmp_path / "c.jsonl"
    with Cassette(path, mode="all", scrub=ScrubConfig().with_extra(headers=["x-tenant"])) as cassette:
        asyncio.run(cassette.llm(real_llm, agent_name="a", model="gpt-4o-mini")([{"role": "user", "content": "who?"}]))
        httpx.post(f"{fake_providers.url}/v1/other", json={}, headers={"x-tenant": TENANT_VALUE})
    assert leaked(path, TENANT_VALUE) == []
    assert rows(path)[0]["response"] == "the tenant is <redacted:x-tenant>"


def test_re_recording_the_same_secrets_writes_the_same_bytes(fake_providers, tmp_path):
    path = tmp_path / "c.jsonl"
    texts = []
    port = int(fake_providers.url.rsplit(":", 1)[1])
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"{OPENAI_KEY} {GOOGLE_KEY}"}]}
    for _ in range(2):
        fake_providers.stop()
        fake_providers.start(port)  # the same address, and the call numbers start again
        with Cassette(path, mode="all"):
            httpx.post(f"{fake_providers.url}/v1/chat/completions", json=body, headers={"x-api-key": TENANT_VALUE})
        texts.append(path.read_bytes())
    assert texts[0] == texts[1]
    assert leaked(path, OPENAI_KEY, GOOGLE_KEY, TENANT_VALUE) == []


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)


def test_an_llm_call_whose_prompt_holds_a_key_replays_from_the_scrubbed_cassette(tmp_path):
    async def real_llm(messages: list[dict[str, Any]]) -> str:
        return "done"

    path = tmp_path / "c.jsonl"
    ask = [{"role": "user", "content": f"deploy with {OPENAI_KEY}", "password": "pw-1234567890"}]
    with Cassette(path, mode="all") as cassette:
        asyncio.run(cassette.llm(real_llm, agent_name="ops", model="gpt-4o-mini")(ask))
    with Cassette(path) as replay:  # the live prompt is scrubbed the same way before it is matched
        assert asyncio.run(replay.llm(agent_name="ops")(ask)) == "done"
    assert leaked(path, OPENAI_KEY, "pw-1234567890") == []
