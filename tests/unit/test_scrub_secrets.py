"""The one scrubber by name (secret-like JSON fields), by shape (every key kind, binary
bodies, keys split across stream events) and by value (learnt secrets echoed elsewhere)."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from real_traffic import as_interaction, index, load

from pyagent_trace._recording import RecordEntry
from pyagent_trace._secrets import is_secret_name
from pyagent_trace.scrub import REDACTED, Scrubber, ScrubConfig, scrub_http, scrub_value

# Planted secrets, one per kind (built from parts: a scanner of this file must not flag them).
SECRETS = {
    "openai-key": "sk-proj-" + "Q7w8E9r0T1y2U3i4O5p6A7s8D9f0G1h2",
    "anthropic-key": "sk-ant-api03-" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1",
    "google-api-key": "AIza" + "SyB1c2D3e4F5g6H7i8J9k0L1m2N3o4P5q",
    "aws-access-key": "AKIA" + "Z7Q3X9W2V8M4K6J1",
    "github-token": "ghp" + "_R8t2Y6u0I4o8P2a6S0d4F8g2H6j0K4l8Z2x6",
    "slack-token": "xoxb" + "-123456789012-abcdefABCDEF123456",
    "slack-webhook": "https://hooks.slack.com/services/" + "T0AAA1111/B0BBB2222/xyzXYZ123456abcdef",
    "jwt": "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "private-key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + "IBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
}


# -- by shape -------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "secret"), SECRETS.items())
def test_every_key_kind_is_redacted_in_any_string_with_a_labelled_placeholder(kind, secret):
    value, removed = scrub_value({"messages": [{"content": f"here: {secret} ok"}]})
    text = value["messages"][0]["content"]
    assert secret not in text
    assert text.startswith("here: ")
    assert text.endswith(" ok")
    assert f"<redacted:{kind}>" in text
    assert removed == [f"{kind} in messages[0].content"]


@pytest.mark.parametrize(
    "text",
    ["AKIA is an AWS prefix", "eyJ alone", "xoxo, hugs", "ghp_short1", "a PRIVATE KEY is private", "bearer bonds",
     "https://hooks.slack.com/", "<redacted:openai-key>"],
)  # fmt: skip
def test_prose_near_a_key_prefix_is_left_alone(text):
    assert scrub_value(text) == (text, [])


def test_the_same_secret_gets_the_same_placeholder_which_reveals_nothing_of_it():
    secret = SECRETS["openai-key"]
    first = Scrubber().text(f"a {secret}")
    assert first == Scrubber().text(f"a {secret}") == "a <redacted:openai-key>"
    assert not any(secret[i : i + 4] in first for i in range(len(secret) - 3))


def test_a_binary_body_is_decoded_scrubbed_at_byte_level_and_encoded_again():
    raw = b"\x89PNG\xff\x00" + SECRETS["aws-access-key"].encode() + b"\x00\xfe"
    side = {"status": 200, "body_base64": base64.b64encode(raw).decode()}
    scrubbed, removed = scrub_http({"response": side})
    assert base64.b64decode(scrubbed["response"]["body_base64"]) == b"\x89PNG\xff\x00<redacted:aws-access-key>\x00\xfe"
    assert removed == ["aws-access-key in response.body_base64"]


def _anthropic_delta(text: str) -> str:
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
    return f"event: content_block_delta\ndata: {json.dumps(delta)}\n\n"


def test_a_key_split_across_stream_events_is_removed_from_each_piece():
    key = SECRETS["anthropic-key"]
    pieces = ["my key is ", key[:6], key[6:15], key[15:], " ok"]
    events = [_anthropic_delta(p) for p in pieces]
    scrubbed, removed = scrub_http({"response": {"sse_events": events}})
    out = scrubbed["response"]["sse_events"]
    texts = [json.loads(e.split("data: ", 1)[1])["delta"]["text"] for e in out]
    assert texts == ["my key is ", "<redacted:anthropic-key>", "", "", " ok"]
    assert out[0] == events[0]  # untouched events keep their bytes
    assert all(e.startswith("event: content_block_delta\ndata: ") and e.endswith("\n\n") for e in out)
    assert removed == ["anthropic-key in response.sse_events[1..3]"]


# -- by name --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"api_key": "v-12345678"}, ("api_key",)),
        ({"apiKey": "v-12345678"}, ("apiKey",)),
        ({"api-key": "v-12345678"}, ("api-key",)),
        ({"password": "v-12345678"}, ("password",)),
        ({"token": "v-12345678"}, ("token",)),
        ({"access_token": "v-12345678"}, ("access_token",)),
        ({"refreshToken": "v-12345678"}, ("refreshToken",)),
        ({"client_secret": "v-12345678"}, ("client_secret",)),
        ({"secret": "v-12345678"}, ("secret",)),
        ({"auth": {"api_key": "v-12345678"}}, ("auth", "api_key")),
        ({"items": [{"x": 1, "Authorization": "v-12345678"}]}, ("items", 0, "Authorization")),
    ],
)
def test_secret_like_json_fields_are_redacted_in_requests_and_echoed_responses(body, path):
    scrubbed, _ = scrub_http({"request": {"body": copy.deepcopy(body)}, "response": {"body": copy.deepcopy(body)}})
    for side in ("request", "response"):
        value = scrubbed[side]["body"]
        for part in path:
            value = value[part]
        assert value == REDACTED
    assert "v-12345678" not in json.dumps(scrubbed)


def test_usage_counts_logprob_tokens_and_tokenizer_settings_are_not_secrets():
    body = {
        "max_tokens": 64, "tokens": 12, "token": 7, "usage": {"input_tokens": 5, "prompt_tokens": 5},
        "logprobs": {"content": [{"token": "Hello", "logprob": -0.1, "bytes": [72]}]},
        "eos_token": "</s>", "token_type": "bearer", "max_output_tokens": 100,
    }  # fmt: skip
    assert scrub_value(body) == (body, [])
    assert scrub_http({"request": {"body": body}}) == ({"request": {"body": body}}, [])


@pytest.mark.parametrize(
    ("name", "secret"),
    [("api_key", True), ("x-api-key", True), ("X-Auth-Token", True), ("idToken", True), ("webhook_secret", True),
     ("max_tokens", False), ("input_tokens", False), ("prompt_tokens", False), ("tokens", False),
     ("pad_token", False), ("tokenizer", False), ("key", False), ("model", False)],
)  # fmt: skip
def test_secret_names_are_matched_precisely(name, secret):
    assert is_secret_name(name) is secret


def test_extra_field_names_are_redacted_at_any_depth():
    config = ScrubConfig().with_extra(fields=["Session_ID"])
    value, removed = Scrubber(config).value({"a": [{"session_id": "s-123456789"}]})
    assert value == {"a": [{"session_id": REDACTED}]}
    assert removed[0].where == "a[0].session_id"


# -- by value -------------------------------------------------------------------------------
def test_a_learnt_value_is_redacted_wherever_it_is_echoed():
    config = ScrubConfig().with_extra(headers=["x-tenant"])
    interaction = {
        "request": {"url": "https://x.test/a?sig=sig-value-123", "headers": {"x-tenant": ["tenant-abc-123"]},
                    "body": {"password": "pw-value-9999", "q": "hi"}},
        "response": {"headers": {"x-echo": ["tenant-abc-123"]},
                     "body": {"text": "tenant-abc-123 sig-value-123 pw-value-9999"}},
    }  # fmt: skip
    scrubbed, _ = scrub_http(interaction, config)
    assert scrubbed["response"]["headers"]["x-echo"] == ["<redacted:x-tenant>"]
    assert scrubbed["response"]["body"]["text"] == "<redacted:x-tenant> <redacted:sig> <redacted:password>"


def test_a_bearer_value_is_learnt_without_its_scheme_and_a_cookie_by_its_value():
    scrubber = Scrubber()
    scrubber.http({"request": {"headers": {"authorization": ["Bearer opaque-token-value"],
                                           "cookie": ["sid=cookie-value-42; theme=dark"]}}})  # fmt: skip
    assert scrubber.text("opaque-token-value / cookie-value-42 / dark") == (
        "<redacted:authorization> / <redacted:cookie> / dark"
    )


def test_short_values_are_redacted_by_name_but_not_searched_for():
    scrubbed, _ = scrub_http({"request": {"headers": {"x-api-key": ["abc"]}, "body": {"q": "abc"}}})
    assert scrubbed["request"] == {"headers": {"x-api-key": [REDACTED]}, "body": {"q": "abc"}}


def test_llm_entries_are_scrubbed_like_http_ones():
    entry = RecordEntry("llm_call", messages=[{"role": "user", "content": SECRETS["jwt"]}], response=SECRETS["jwt"])
    scrubbed, removed = Scrubber().entry(entry)
    assert (scrubbed.messages[0]["content"], scrubbed.response) == ("<redacted:jwt>", "<redacted:jwt>")
    assert [str(f) for f in removed] == ["jwt in messages[0].content", "jwt in response"]


# -- real traffic: nothing that is content is touched ----------------------------------------
def test_real_provider_traffic_loses_no_content_to_the_scrubber():
    changed = []
    for row in index():
        interaction = as_interaction(load(row["file"]))
        scrubbed, found = Scrubber().http(interaction)
        if scrubbed["response"] != interaction["response"]:
            changed.append((row["file"], [str(f) for f in found]))
    assert changed == []


def test_the_recorder_writes_no_key_and_replay_llm_still_finds_the_call(tmp_path):
    from pyagent_trace.recorder import Recorder
    from pyagent_trace.replay import ReplayLLM

    recorder = Recorder()
    asked = [{"role": "user", "content": f"use {SECRETS['openai-key']}", "password": "pw-1234567890"}]
    recorder.record_llm_call("ops", asked, f"ok {SECRETS['slack-token']}", model="gpt-4o-mini")
    recorder.record_llm_call("ops", [{"role": "user", "content": "again pw-1234567890"}], "done", model="gpt-4o-mini")
    path = recorder.save(tmp_path / "run.jsonl")
    text = path.read_text()
    assert [s for s in (*SECRETS.values(), "pw-1234567890") if s in text] == []
    assert "again <redacted:password>" in text  # learnt from the first call's field
    replay = ReplayLLM(Recorder.load(path), "ops", match="messages")
    assert replay.replay(asked).response == "ok <redacted:slack-token>"


# -- the replay lookup's screen ---------------------------------------------------------------
def _request_bodies() -> list[str]:
    """Every real request body of shared/real-traffic, then the same with each secret planted."""
    bodies = []
    for item in index():
        body = as_interaction(load(item["file"]))["request"].get("body")
        if isinstance(body, dict | list):
            bodies.append(json.dumps(body))
    planted = [json.dumps({"messages": [{"role": "user", "content": f"use {s} now"}]}) for s in SECRETS.values()]
    by_name = [json.dumps({"model": "m", "auth": {"api_key": "abcdefgh12345678"}}), '{"password": "hunter2hunter2"}']
    return bodies + planted + by_name


@pytest.mark.parametrize("text", _request_bodies())
def test_a_body_the_screen_calls_clean_is_one_the_full_walk_leaves_unchanged(text):
    """looks_clean lets the replay lookup skip the walk: it must never call a body clean that
    the walk would change (it may send a clean body to the walk: that only costs time)."""
    scrubber = Scrubber()
    body = json.loads(text)
    walked = scrubber.http({"request": {"method": "POST", "url": "https://api.example.com/v1/x", "body": body}})[0]
    if scrubber.looks_clean(text, "https://api.example.com/v1/x"):
        assert walked["request"]["body"] == body


def test_the_screen_sees_learnt_values_shapes_and_secret_fields():
    scrubber = Scrubber()
    scrubber.learn("tenant-0123456789", "x-tenant")
    assert not scrubber.looks_clean('{"content": "for tenant-0123456789"}')
    assert not scrubber.looks_clean(json.dumps({"content": SECRETS["openai-key"]}))
    assert not scrubber.looks_clean('{"client_secret": "abcdefgh1234"}')
    scrubber.learn('quo"te-0123456789', "x-odd")
    assert not scrubber.looks_clean('{"content": "quo\\"te-0123456789"}')  # found as JSON escapes it
    assert not scrubber.looks_clean("{}", "https://api.example.com/v1/x?key=abc")  # a query: the walk decides
    assert scrubber.looks_clean('{"model": "gpt-4o-mini", "max_tokens": 50, "messages": [{"content": "hi"}]}')
