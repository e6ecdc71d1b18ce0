"""Provider parsing: which API a request is, and canonical tokens from each provider's usage."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pyagent_trace.http.providers import Usage, detect_api, parse_call, parse_sse_data, usage_from


def sse(*events: object, event_names: tuple[str, ...] = ()) -> list[str]:
    out = []
    for i, data in enumerate(events):
        head = f"event: {event_names[i]}\n" if event_names else ""
        out.append(f"{head}data: {data if isinstance(data, str) else json.dumps(data)}\n\n")
    return out


def call(url: str, body: dict, response: dict):
    return parse_call({"method": "POST", "url": url, "body": body}, response)


# -- detection ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "body", "expected"),
    [
        ("https://api.openai.com/v1/chat/completions", {"model": "gpt-4o"}, ("openai", "chat", "gpt-4o")),
        ("http://proxy:8080/openai/v1/chat/completions", {"model": "m"}, ("openai", "chat", "m")),
        ("https://api.openai.com/v1/responses", {"model": "o3"}, ("openai", "responses", "o3")),
        ("https://api.anthropic.com/v1/messages", {"model": "claude-haiku-4-5", "messages": []},
         ("anthropic", "messages", "claude-haiku-4-5")),
        ("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", {},
         ("gemini", "generate_content", "gemini-2.5-flash")),
        ("https://x/v1/models/gemini-2.5-pro:streamGenerateContent?alt=sse", {},
         ("gemini", "generate_content", "gemini-2.5-pro")),
    ],
)  # fmt: skip
def test_detect_api_recognises_each_provider_by_path_whatever_the_host(url, body, expected):
    assert detect_api("POST", url, body) == expected


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "https://api.openai.com/v1/chat/completions", {"model": "gpt-4o"}),
        ("POST", "https://api.openai.com/v1/threads/t1/messages", {"role": "user", "content": "hi"}),
        ("POST", "https://example.com/weather", {"city": "Paris"}),
        ("POST", "https://api.openai.com/v1/chat/completions", "not json"),
    ],
)
def test_detect_api_ignores_traffic_that_is_not_an_llm_call(method, url, body):
    assert detect_api(method, url, body) is None


# -- usage: each provider's cache-token semantics ---------------------------------------------
def test_openai_chat_prompt_tokens_already_include_cached_tokens():
    usage = {"prompt_tokens": 120, "completion_tokens": 30, "prompt_tokens_details": {"cached_tokens": 100}}
    assert usage_from("chat", usage) == Usage(120, 30, 100, 0)


def test_openai_responses_input_tokens_already_include_cached_tokens():
    usage = {"input_tokens": 50, "output_tokens": 5, "input_tokens_details": {"cached_tokens": 40}}
    assert usage_from("responses", usage) == Usage(50, 5, 40, 0)


def test_anthropic_input_is_the_sum_of_uncached_cache_read_and_cache_write_tokens():
    usage = {"input_tokens": 12, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20, "output_tokens": 9}
    assert usage_from("messages", usage) == Usage(132, 9, 100, 20)


def test_gemini_prompt_includes_cached_and_output_adds_thoughts():
    usage = {"promptTokenCount": 30, "cachedContentTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 3}
    assert usage_from("generate_content", usage) == Usage(30, 8, 10, 0, reasoning_tokens=3)


def test_cache_counts_above_the_reported_input_never_make_input_smaller_than_them():
    usage = {"prompt_tokens": 10, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 50}}
    assert usage_from("chat", usage) == Usage(50, 1, 50, 0)


def test_missing_or_malformed_counts_read_as_zero():
    assert usage_from("messages", {"input_tokens": None, "output_tokens": "7"}) == Usage(0, 0, 0, 0)


# -- whole calls: messages, text, model, usage (also from streams) --------------------------
def test_openai_chat_call_gives_messages_text_models_and_usage():
    parsed = call(
        "https://api.openai.com/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        {"body": {"model": "gpt-4o-mini-2024-07-18", "choices": [{"message": {"content": "hello"}}],
                  "usage": {"prompt_tokens": 3, "completion_tokens": 1}}},
    )  # fmt: skip
    assert parsed is not None
    assert (parsed.provider, parsed.operation, parsed.request_model) == ("openai", "chat", "gpt-4o-mini")
    assert (parsed.response_model, parsed.text, parsed.messages) == (
        "gpt-4o-mini-2024-07-18",
        "hello",
        [{"role": "user", "content": "hi"}],
    )
    assert parsed.usage == Usage(3, 1, 0, 0)


def test_openai_chat_stream_usage_comes_from_the_final_include_usage_chunk():
    events = sse(
        {"model": "gpt-4o-mini", "choices": [{"delta": {"role": "assistant", "content": ""}}]},
        {"model": "gpt-4o-mini", "choices": [{"delta": {"content": "Hel"}}]},
        {"model": "gpt-4o-mini", "choices": [{"delta": {"content": "lo"}, "finish_reason": "stop"}]},
        {"model": "gpt-4o-mini", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2,
                                                          "prompt_tokens_details": {"cached_tokens": 4}}},
        "[DONE]",
    )  # fmt: skip
    parsed = call("https://x/v1/chat/completions", {"model": "gpt-4o-mini", "messages": []}, {"sse_events": events})
    assert parsed is not None
    assert (parsed.text, parsed.usage) == ("Hello", Usage(9, 2, 4, 0))


def test_a_stream_without_usage_reports_none_so_the_caller_can_estimate():
    events = sse({"choices": [{"delta": {"content": "Hi"}}]}, "[DONE]")
    parsed = call("https://x/v1/chat/completions", {"model": "m", "messages": []}, {"sse_events": events})
    assert parsed is not None
    assert parsed.usage is None


def test_openai_responses_stream_takes_text_deltas_and_completed_usage():
    completed = {"model": "o3-2025", "usage": {"input_tokens": 20, "output_tokens": 4,
                                               "input_tokens_details": {"cached_tokens": 8}}}  # fmt: skip
    events = sse(
        {"type": "response.created", "response": {"model": "o3-2025"}},
        {"type": "response.output_text.delta", "delta": "Yes"},
        {"type": "response.output_text.delta", "delta": "!"},
        {"type": "response.completed", "response": completed},
    )
    parsed = call("https://x/v1/responses", {"model": "o3", "input": "q", "instructions": "be brief"},
                  {"sse_events": events})  # fmt: skip
    assert parsed is not None
    assert (parsed.text, parsed.response_model, parsed.usage) == ("Yes!", "o3-2025", Usage(20, 4, 8, 0))
    assert parsed.messages == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "q"}]


def test_anthropic_stream_merges_message_start_and_message_delta_usage():
    start = {
        "type": "message_start",
        "message": {
            "model": "claude-haiku-4-5-20251001",
            "usage": {
                "input_tokens": 12,
                "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 20,
                "output_tokens": 1,
            },
        },
    }
    events = sse(
        start,
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "content_block_delta", "delta": {"type": "input_json_delta", "partial_json": "{"}},
        {"type": "message_delta", "usage": {"output_tokens": 9}},
        {"type": "message_stop"},
        event_names=("message_start", "content_block_delta", "content_block_delta", "message_delta", "message_stop"),
    )  # fmt: skip
    body = {"model": "claude-haiku-4-5", "system": [{"type": "text", "text": "sys"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hey"}]}]}  # fmt: skip
    parsed = call("https://x/v1/messages", body, {"sse_events": events})
    assert parsed is not None
    assert (parsed.text, parsed.usage) == ("Hi", Usage(132, 9, 100, 20))
    assert parsed.messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": "hey"}]


def test_gemini_stream_usage_comes_from_the_last_chunk_and_thoughts_are_not_text():
    def chunk(parts, usage):
        return {
            "candidates": [{"content": {"parts": parts}}],
            "usageMetadata": usage,
            "modelVersion": "gemini-2.5-flash",
        }

    events = [
        f"data: {json.dumps(chunk([{'text': 'hm', 'thought': True}], {'promptTokenCount': 30}))}\r\n\r\n",
        f"data: {json.dumps(chunk([{'text': 'Hi'}], {'promptTokenCount': 30}))}\r\n\r\n",
        f"data: {json.dumps(chunk([{'text': '!'}], {'promptTokenCount': 30, 'candidatesTokenCount': 2}))}\r\n\r\n",
    ]
    body = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}],
            "systemInstruction": {"parts": [{"text": "sys"}]}}  # fmt: skip
    parsed = call(
        "https://x/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", body, {"sse_events": events}
    )
    assert parsed is not None
    assert (parsed.text, parsed.usage) == ("Hi!", Usage(30, 2, 0, 0))
    assert parsed.messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": "hello"}]


def test_parse_sse_data_joins_multi_line_data_and_skips_done_and_non_json():
    events = ['event: x\ndata: {"a":\ndata: 1}\n\n', "data: [DONE]\n\n", ": comment\n\n", "data: nope\n\n"]
    assert parse_sse_data(events) == [{"a": 1}]


def test_an_error_response_is_a_call_without_usage():
    parsed = call("https://x/v1/messages", {"model": "claude-haiku-4-5", "messages": []},
                  {"status": 429, "body": {"type": "error", "error": {"type": "rate_limit_error"}}})  # fmt: skip
    assert parsed is not None
    assert (parsed.usage, parsed.text) == (None, "")


def test_reading_entries_does_not_import_vcrpy():
    """Only HttpCassette needs vcrpy; the CLI and cost/span helpers stay light."""
    code = (
        "import sys; from pyagent_trace.http import parse_call, record_cost, emit_genai_span; "
        "print('vcr' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
