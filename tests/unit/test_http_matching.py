"""Request keys, the FIFO index, telemetry detection, stored-form conversion, and the replay
errors of HttpCassette (httpx replays here without any server: a hit never connects)."""

from __future__ import annotations

import contextlib
import gzip
import zlib

import httpx
import pytest

from pyagent_trace._recording import RecordEntry
from pyagent_trace.exceptions import ConfigError, ReplayExhaustedError, ReplayMismatchError
from pyagent_trace.http import HttpCassette, _matching, cassette, is_telemetry
from pyagent_trace.http._convert import parse_body, response_from_vcr, response_to_vcr, split_sse
from pyagent_trace.http._matching import interaction_index, request_key
from pyagent_trace.scrub import ScrubConfig

URL = "https://api.openai.com/v1/chat/completions"


def entry(content: str, answer: str, url: str = URL) -> RecordEntry:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}
    response = {"status": 200, "reason": "OK", "headers": {"content-type": ["application/json"]},
                "body": {"choices": [{"message": {"content": answer}}]}}  # fmt: skip
    http = {"request": {"method": "POST", "url": url, "headers": {}, "body": body}, "response": response}
    return RecordEntry("http_interaction", model="gpt-4o-mini",
                       metadata={"provider": "openai", "operation": "chat", "http": http})  # fmt: skip


def ask(client: httpx.Client, content: str, url: str = URL) -> str:
    body = {"messages": [{"content": content, "role": "user"}], "model": "gpt-4o-mini"}  # other key order
    return client.post(url, json=body).json()["choices"][0]["message"]["content"]


# -- keys -----------------------------------------------------------------------------------
def test_key_ignores_json_key_order_whitespace_and_host_but_not_path_or_body():
    a = request_key({"method": "post", "url": "https://a.example/v1/x", "body": {"a": 1, "b": [1, {"c": 2}]}})
    b = request_key({"method": "POST", "url": "http://127.0.0.1:9/v1/x", "body": {"b": [1, {"c": 2}], "a": 1}})
    assert a == b
    assert a != request_key({"method": "POST", "url": "https://a.example/v2/x", "body": {"a": 1, "b": [1, {"c": 2}]}})
    assert a != request_key({"method": "POST", "url": "https://a.example/v1/x", "body": {"a": 2, "b": [1, {"c": 2}]}})


def test_key_sorts_query_parameters_and_can_include_the_host():
    a = {"method": "GET", "url": "https://h1/p?b=2&a=1", "body": ""}
    b = {"method": "GET", "url": "https://h2/p?a=1&b=2", "body": ""}
    assert request_key(a) == request_key(b)
    assert request_key(a, match_host=True) != request_key(b, match_host=True)


def test_index_answers_identical_requests_in_recorded_order_then_runs_out():
    first, second = entry("same", "one"), entry("same", "two")
    index = interaction_index([first, entry("other", "x"), second])
    key = request_key(first.metadata["http"]["request"])
    assert [index.take(key), index.take(key), index.take(key)] == [first, second, None]
    assert index.recorded_for(key) == 2
    assert [index.number(e) for e in index.unused()] == [2]


def test_replaying_n_requests_computes_each_key_once_no_scan(monkeypatch):
    """O(1) per request: N loaded + N replayed requests make 2N key computations, whatever N."""
    counted = []
    real = _matching.request_key

    def counting(request, *, match_host=False):
        counted.append(1)
        return real(request, match_host=match_host)

    monkeypatch.setattr(_matching, "request_key", counting)
    monkeypatch.setattr(cassette, "request_key", counting)
    n = 300
    entries = [entry(f"question {i}", f"answer {i}") for i in range(n)]
    with HttpCassette(entries, mode="none") as http, httpx.Client() as client:
        answers = [ask(client, f"question {i}") for i in reversed(range(n))]
    assert answers == [f"answer {i}" for i in reversed(range(n))]
    assert (len(counted), http.calls_replayed, http.unused()) == (2 * n, n, [])


# -- telemetry --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:4318/v1/traces",
        "https://otel.example.com/v1/metrics",
        "https://collector/v1/logs",
        "https://cloud.langfuse.com/api/public/ingestion",
        "https://cloud.langfuse.com/api/public/otel/v1/traces",
        "http://localhost:8126/v0.4/traces",
    ],
)
def test_telemetry_endpoints_are_recognised(url):
    assert is_telemetry(url)


def test_user_ignore_hosts_match_by_name_or_name_and_port_and_llm_calls_are_not_telemetry():
    assert is_telemetry("https://metrics.internal/push", frozenset({"metrics.internal"}))
    assert is_telemetry("http://127.0.0.1:9999/x", frozenset({"127.0.0.1:9999"}))
    assert not is_telemetry(URL, frozenset({"127.0.0.1:9999"}))


# -- stored form ------------------------------------------------------------------------------
def test_gzip_and_deflate_bodies_are_stored_decoded_with_a_fixed_content_length():
    for encoding, data in (("gzip", gzip.compress(b'{"a": 1}')), ("deflate", zlib.compress(b'{"a": 1}'))):
        headers = {"Content-Encoding": [encoding], "Content-Length": [str(len(data))]}
        stored = response_from_vcr({"status": {"code": 200, "message": "OK"}, "headers": headers,
                                    "body": {"string": data}})  # fmt: skip
        assert stored == {"status": 200, "reason": "OK", "headers": {"content-length": ["8"]}, "body": {"a": 1}}


def test_sse_bodies_split_into_raw_events_that_join_back_to_the_body():
    text = "data: 1\r\n\r\nevent: e\ndata: 2\n\ndata: [DONE]\n\n: tail"
    assert split_sse(text) == ["data: 1\r\n\r\n", "event: e\ndata: 2\n\n", "data: [DONE]\n\n", ": tail"]
    stored = {"status": 200, "headers": {"content-type": ["text/event-stream"]}, "body": "",
              "sse_events": split_sse(text)}  # fmt: skip
    assert response_to_vcr(stored)["body"]["string"] == text.encode()


def test_a_header_redacted_when_recorded_is_not_replayed():
    """A Set-Cookie of <redacted> would give the client's cookie jar a cookie named <redacted>."""
    stored = {"status": 200, "headers": {"set-cookie": ["<redacted>"], "x-request-id": ["req_1"]}, "body": {}}
    assert set(response_to_vcr(stored)["headers"]) == {"x-request-id", "content-length"}


def test_bodies_keep_their_kind_json_containers_text_and_binary():
    assert parse_body(b'{"a": [1]}') == {"body": {"a": [1]}}
    assert parse_body(b'"just a json string"') == {"body": '"just a json string"'}
    assert parse_body(b"{not json") == {"body": "{not json"}
    assert parse_body(b"\xff\x00") == {"body_base64": "/wA="}
    assert response_to_vcr({"status": 200, "headers": {}, "body_base64": "/wA="})["body"]["string"] == b"\xff\x00"


# -- replay errors --------------------------------------------------------------------------
def test_an_unrecorded_request_fails_with_a_diff_against_the_nearest_recorded_one():
    entries = [entry("Tell me a joke", "No."), entry("What is the capital of France?", "Paris")]
    http = HttpCassette(entries, mode="none", source="tests/cassettes/t.jsonl", rerecord_hint="HINT")
    with http, httpx.Client() as client:
        assert ask(client, "Tell me a joke") == "No."
        with pytest.raises(ReplayMismatchError) as info:
            ask(client, "What is the capital of Spain?")
        http.errors.clear()  # handled here: the cassette would raise it again on close
    message = str(info.value)
    assert message.startswith(
        "HTTP replay (cassette tests/cassettes/t.jsonl): request #2 POST /v1/chat/completions matches no "
        "recorded interaction; nearest is recorded interaction #2:\n--- recorded\n+++ actual\n"
    )
    assert '-      "content": "What is the capital of France?",' in message
    assert '+      "content": "What is the capital of Spain?",' in message
    assert message.endswith("\nHINT")


def test_a_repeated_request_beyond_the_recorded_ones_says_all_were_replayed():
    http = HttpCassette([entry("hi", "one")], mode="none")
    exhausted = pytest.raises(ReplayExhaustedError, match=r"it was recorded 1 time\(s\) and all were replayed")
    with exhausted, http, httpx.Client() as client:
        assert ask(client, "hi") == "one"
        ask(client, "hi")
    assert http.calls_replayed == 1


def test_an_error_swallowed_by_the_code_under_test_is_raised_when_the_cassette_closes():
    http = HttpCassette([], mode="none")
    closing = pytest.raises(ReplayExhaustedError, match=r"the recording holds 0 interaction\(s\)")
    # The code under test swallows the error, as an SDK turning it into its own error would.
    with closing, http, httpx.Client() as client, contextlib.suppress(ReplayExhaustedError):
        ask(client, "hi")
    assert len(http.errors) == 1


def test_bad_mode_and_reentering_are_config_errors():
    with pytest.raises(ConfigError, match="unknown record mode 'sometimes'; choose one of: none, once, new, all"):
        HttpCassette([], mode="sometimes")  # type: ignore[arg-type]
    http = HttpCassette([], mode="none")
    with http, pytest.raises(ConfigError, match="already open"):
        http.__enter__()


# -- user filters, through httpx.MockTransport (vcrpy patches it like a real transport) -----
def echo_handler(request: httpx.Request) -> httpx.Response:
    headers = {"x-session-token": "tok-123", "content-type": "application/json"}
    return httpx.Response(200, json={"echo": request.url.params.get("q"), "secret": "server-side"}, headers=headers)


def test_user_filters_redact_headers_query_and_body_paths_and_replay_still_matches():
    config = ScrubConfig().with_extra(headers=["x-session-token", "x-tenant"], query="q", body_paths=["auth.token"])
    body = {"auth": {"token": "tenant-secret"}, "ask": "hi"}

    def call(client: httpx.Client) -> dict:
        return client.post("https://svc.example/api?q=private", json=body, headers={"x-tenant": "acme"}).json()

    transport = httpx.MockTransport(echo_handler)
    with HttpCassette([], mode="all", scrub=config) as recording, httpx.Client(transport=transport) as client:
        recorded_answer = call(client)
    (entry,) = recording.recorded
    http = entry.metadata["http"]
    assert http["request"]["url"] == "https://svc.example/api?q=<redacted>"
    assert http["request"]["headers"]["x-tenant"] == ["<redacted>"]
    assert http["request"]["body"] == {"auth": {"token": "<redacted>"}, "ask": "hi"}
    assert http["response"]["headers"]["x-session-token"] == ["<redacted>"]
    assert (entry.metadata["provider"], entry.cost_usd, entry.priced) == ("", 0.0, True)  # not an LLM call
    with HttpCassette(recording.recorded, mode="none", scrub=config) as replay, httpx.Client() as client:
        # The live request is scrubbed the same way before lookup; the response's field
        # named "secret" was redacted by name when recorded.
        assert call(client) == {**recorded_answer, "secret": "<redacted>"}
    assert replay.calls_replayed == 1


def test_a_stream_through_mock_transport_is_recorded_and_replayed_event_by_event():
    events = [b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n"]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(events))

    def chunks(client: httpx.Client) -> list[bytes]:
        with client.stream("POST", "https://x/v1/chat/completions", json={"model": "m", "messages": []}) as r:
            return list(r.iter_bytes())

    with HttpCassette([], mode="all") as recording, httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert chunks(client) == events
    with HttpCassette(recording.recorded, mode="none"), httpx.Client() as client:
        assert chunks(client) == events
    assert recording.recorded[0].tokens_estimated  # no usage in the stream: estimated, not zero


def test_a_failing_callback_never_reaches_the_http_client_and_is_raised_on_close():
    """An SDK would take it for a network error and retry, sending a paid request again."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"ok": True})

    def over_budget(entry: RecordEntry) -> None:
        raise ValueError("budget exceeded")

    http = HttpCassette([], mode="all", on_record=over_budget)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(ValueError, match="budget exceeded"), http, client:  # raised on close, after the call
        assert client.get("https://svc.example/x").json() == {"ok": True}
    assert (len(calls), len(http.recorded)) == (1, 1)
