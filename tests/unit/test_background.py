"""Background traffic (telemetry, framework metadata): which URLs, and what replay does with them."""

from __future__ import annotations

import httpx
import pytest

from pyagent_trace.exceptions import ConfigError
from pyagent_trace.http import HttpCassette
from pyagent_trace.http._background import BLOCK, EMPTY, Background, background_rule, is_background_host, parse_rules

# Each endpoint as the framework's installed source builds it (see the rule's comment).
ENDPOINTS = [
    ("https://api.smith.langchain.com/info", EMPTY),
    ("https://api.smith.langchain.com/runs/multipart", EMPTY),
    ("https://eu.api.smith.langchain.com/runs/batch", EMPTY),
    ("https://langsmith.internal.example/api/v1/runs/multipart", EMPTY),
    ("https://api.openai.com/v1/traces/ingest", EMPTY),
    ("https://logfire-us.pydantic.dev/v1/traces", EMPTY),
    ("https://cloud.langfuse.com/api/public/otel/v1/traces", EMPTY),
    ("https://http-intake.logs.datadoghq.com/api/v2/logs", EMPTY),
    ("http://localhost:8126/v0.4/traces", EMPTY),
    ("https://us.i.posthog.com/batch/", EMPTY),
    ("https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json", BLOCK),
    ("https://raw.githubusercontent.com/BerriAI/litellm/main/litellm/anthropic_beta_headers_config.json", BLOCK),
    ("https://logfire-eu.pydantic.dev/v1/info", BLOCK),
]
CALLS = [
    "https://api.openai.com/v1/chat/completions",
    "https://api.openai.com/v1/responses",
    "https://api.anthropic.com/v1/messages",
    "https://raw.githubusercontent.com/someone/data/main/file.json",
    "https://api.openai.com/v1/traces/ingest/other",
]


@pytest.mark.parametrize(("url", "answer"), ENDPOINTS)
def test_framework_and_telemetry_endpoints_are_background(url, answer):
    rule = background_rule(url)
    assert rule is not None
    assert rule.answer == answer


@pytest.mark.parametrize("url", CALLS)
def test_llm_calls_and_other_urls_are_not(url):
    assert background_rule(url) is None


def test_ini_entries_name_a_host_a_port_a_domain_or_a_path():
    rules = parse_rules(["metrics.internal", "127.0.0.1:9999", ".telemetry.example", "api.example.com/v2/ping", " "])
    assert rules == (
        Background("ini entry 'metrics.internal'", BLOCK, "metrics.internal"),
        Background("ini entry '127.0.0.1:9999'", BLOCK, "127.0.0.1", 9999),
        Background("ini entry '.telemetry.example'", BLOCK, ".telemetry.example"),
        Background("ini entry 'api.example.com/v2/ping'", BLOCK, "api.example.com", contains="/v2/ping"),
    )
    assert background_rule("https://eu.telemetry.example/x", rules) is not None
    assert background_rule("https://api.example.com/v2/ping?x=1", rules) is not None
    assert background_rule("https://api.example.com/v2/chat", rules) is None
    assert background_rule("http://127.0.0.1:9998/x", rules) is None


def test_the_network_block_knows_background_hosts_by_host_and_port():
    assert is_background_host("raw.githubusercontent.com", 443)
    assert is_background_host("collector", 4317)
    assert is_background_host("api.smith.langchain.com", 443)
    assert is_background_host("metrics.internal", 443, parse_rules(["metrics.internal"]))
    assert not is_background_host("api.openai.com", 443)  # its trace export is answered before the socket


def _client(sent):
    def handler(request):
        sent.append(str(request.url))
        return httpx.Response(503, json={"real": True})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_replay_answers_exports_with_an_empty_success_and_leaves_fetches_to_the_network():
    sent = []
    with HttpCassette(mode="none"), _client(sent) as client:
        ingest = client.post("https://api.openai.com/v1/traces/ingest", json={"data": [{"id": "trace_1"}]})
        info = client.get("https://api.smith.langchain.com/info")
        prices = client.get(
            "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
        )
        local = client.post("http://127.0.0.1:4318/v1/traces", content=b"\x00")
    assert (ingest.status_code, ingest.json(), info.json()) == (200, {}, {})
    assert prices.status_code == 503  # the network's answer (the plugin's block, in a replayed test)
    assert local.status_code == 503  # a local collector still gets its spans
    assert sent == [
        "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
        "http://127.0.0.1:4318/v1/traces",
    ]


def test_recording_sends_background_traffic_and_keeps_none_of_it():
    sent = []
    with HttpCassette(mode="all") as http, _client(sent) as client:
        client.post("https://api.openai.com/v1/traces/ingest", json={"data": []})
        client.get("https://api.smith.langchain.com/info")
    assert len(sent) == 2
    assert http.recorded == []


def test_a_bad_ini_entry_is_named_with_what_to_write():
    with pytest.raises(ConfigError, match=r"pyagent_trace_ignore_hosts entry 'a\.com:http': write host, host:port"):
        parse_rules(["a.com:http"])
    assert parse_rules(["[::1]:9000"]) == (Background("ini entry '[::1]:9000'", BLOCK, "::1", 9000),)
