"""Secret filters: headers, query params, body paths and key-shaped strings become "<redacted>"."""

from __future__ import annotations

import copy
import time

import pytest

from pyagent_trace._recording import RecordEntry
from pyagent_trace.exceptions import ConfigError
from pyagent_trace.scrub import (
    DEFAULT_HEADERS,
    DEFAULT_QUERY_PARAMS,
    REDACTED,
    ScrubConfig,
    scrub_entry,
    scrub_http,
    scrub_value,
)

OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
ANTHROPIC_KEY = "sk-ant-api03-" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3" * 2
GOOGLE_KEY = "AIzaSyD" + "x1Y2z3A4b5C6d7E8f9G0h1I2j3K4"


def _interaction():
    return {
        "request": {
            "method": "POST",
            "url": f"https://api.openai.com/v1/chat/completions?key={GOOGLE_KEY}&model=gpt-4o&sig=abc",
            "headers": {
                "Authorization": [f"Bearer {OPENAI_KEY}"],
                "Content-Type": ["application/json"],
                "OpenAI-Organization": ["org-123"],
            },
            "body": {
                "model": "gpt-4o-mini",
                "api_key": "secret-in-body",
                "messages": [{"role": "user", "content": "Summarise Tesla Q3"}],
            },
        },
        "response": {
            "status": 200,
            "reason": "OK",
            "headers": {"set-cookie": ["__cf_bm=abc; path=/", "other=1"], "x-request-id": ["req_1"]},
            "body": {"choices": [{"message": {"role": "assistant", "content": "Revenue: $25.2B"}}]},
        },
    }


# -- headers -------------------------------------------------------------------------------
def test_default_headers_are_redacted_case_insensitively_and_kept_present():
    scrubbed, removed = scrub_http(_interaction())
    headers = scrubbed["request"]["headers"]
    assert headers["Authorization"] == [REDACTED]
    assert headers["OpenAI-Organization"] == [REDACTED]
    assert headers["Content-Type"] == ["application/json"]
    assert scrubbed["response"]["headers"]["set-cookie"] == [REDACTED, REDACTED]
    assert scrubbed["response"]["headers"]["x-request-id"] == ["req_1"]
    assert "request.headers.Authorization" in removed
    assert "response.headers.set-cookie" in removed


def test_the_documented_default_header_list():
    assert (
        frozenset(
            {
                "authorization",
                "proxy-authorization",
                "x-api-key",
                "api-key",
                "x-goog-api-key",
                "openai-organization",
                "openai-project",
                "cookie",
                "set-cookie",
                "anthropic-admin-key",
            }
        )
        == DEFAULT_HEADERS
    )
    assert frozenset({"key", "api_key", "apikey", "access_token", "token", "sig"}) == DEFAULT_QUERY_PARAMS


def test_a_header_given_as_a_plain_string_is_redacted_as_a_string():
    interaction = {"request": {"headers": {"X-Api-Key": "abc"}}}
    scrubbed, removed = scrub_http(interaction)
    assert scrubbed["request"]["headers"]["X-Api-Key"] == REDACTED
    assert removed == ["request.headers.X-Api-Key"]


# -- query parameters ----------------------------------------------------------------------
def test_query_params_are_redacted_in_place_and_other_params_are_untouched():
    scrubbed, removed = scrub_http(_interaction())
    url = scrubbed["request"]["url"]
    assert url == "https://api.openai.com/v1/chat/completions?key=<redacted>&model=gpt-4o&sig=<redacted>"
    assert "request.url?key" in removed
    assert "request.url?sig" in removed


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.test/a?API_KEY=1", "https://x.test/a?API_KEY=<redacted>"),
        ("https://x.test/a?token=1&token=2", "https://x.test/a?token=<redacted>&token=<redacted>"),
        ("https://x.test/a?q=a%20b&access_token=z#frag", "https://x.test/a?q=a%20b&access_token=<redacted>#frag"),
        ("https://x.test/a?flag&apikey=", "https://x.test/a?flag&apikey="),
        ("https://x.test/a", "https://x.test/a"),
        ("https://user:hunter2@x.test/a", "https://user:<redacted>@x.test/a"),
        ("http://[::1/a?key=1", "http://[::1/a?key=<redacted>"),  # urllib cannot parse this one
        ("https://u:p@x.test?key=k", "https://u:<redacted>@x.test?key=<redacted>"),
        ("https://x.test/login@home", "https://x.test/login@home"),
    ],
)
def test_query_redaction_cases(url, expected):
    scrubbed, _ = scrub_http({"request": {"url": url}})
    assert scrubbed["request"]["url"] == expected


# -- body paths ----------------------------------------------------------------------------
def test_default_body_path_api_key_is_redacted_in_the_request_body():
    scrubbed, removed = scrub_http(_interaction())
    body = scrubbed["request"]["body"]
    assert body["api_key"] == REDACTED
    assert body["messages"] == [{"role": "user", "content": "Summarise Tesla Q3"}]
    assert "request.body.api_key" in removed


def test_extra_body_paths_support_dotted_strings_tuples_and_wildcards():
    config = ScrubConfig().with_extra(body_paths=["auth.token", ("items", "*", "secret")])
    interaction = {
        "request": {"body": {"auth": {"token": "t"}, "items": [{"secret": "a"}, {"secret": "b", "x": 1}]}},
        "response": {"body": {"auth": {"token": "u"}}},
    }
    scrubbed, removed = scrub_http(interaction, config)
    assert scrubbed["request"]["body"] == {
        "auth": {"token": REDACTED},
        "items": [{"secret": REDACTED}, {"secret": REDACTED, "x": 1}],
    }
    assert scrubbed["response"]["body"] == {"auth": {"token": REDACTED}}
    assert removed == [
        "request.body.auth.token",
        "request.body.items[0].secret",
        "request.body.items[1].secret",
        "response.body.auth.token",
    ]


def test_a_body_path_that_does_not_exist_or_meets_a_string_body_is_ignored():
    config = ScrubConfig().with_extra(body_paths=["a.b.c"])
    scrubbed, removed = scrub_http({"request": {"body": {"a": "not a dict"}}, "response": {"body": "text"}}, config)
    assert scrubbed == {"request": {"body": {"a": "not a dict"}}, "response": {"body": "text"}}
    assert removed == []


# -- key-shaped strings --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        (f"my key is {OPENAI_KEY}.", "my key is <redacted:openai-key>.", "openai-key"),
        (f"key={ANTHROPIC_KEY}", "key=<redacted:anthropic-key>", "anthropic-key"),
        (f"use {GOOGLE_KEY} here", "use <redacted:google-api-key> here", "google-api-key"),
        (
            "Authorization: Bearer eyJhbGciOi.J9x2a1b3c4",
            "Authorization: Bearer <redacted:bearer-token>",
            "bearer-token",
        ),
        ("bearer abcdefgh12345678", "bearer <redacted:bearer-token>", "bearer-token"),
    ],
)
def test_key_shaped_strings_are_redacted_anywhere(text, expected, kind):
    value, removed = scrub_value({"deep": [{"text": text}]})
    assert value == {"deep": [{"text": expected}]}
    assert removed == [f"{kind} in deep[0].text"]


@pytest.mark.parametrize(
    "text",
    [
        "the task-force met",  # "sk-" inside a word
        "risk-adjusted-return-on-capital-employed",  # long, hyphenated, no digit
        "Bearer of bad news",
        "bearer instruments are transferable",  # prose, no digit in the token
        "AIza",
        "sk-short1",
        REDACTED,
        "Bearer <redacted>",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert scrub_value(text) == (text, [])


def test_patterns_are_scanned_in_sse_events_and_string_bodies():
    interaction = {
        "request": {"body": f"raw body {OPENAI_KEY}"},
        "response": {"sse_events": ["data: {}", f"data: {ANTHROPIC_KEY}"]},
    }
    scrubbed, removed = scrub_http(interaction)
    assert scrubbed["request"]["body"] == "raw body <redacted:openai-key>"
    assert scrubbed["response"]["sse_events"] == ["data: {}", "data: <redacted:anthropic-key>"]
    assert removed == ["openai-key in request.body", "anthropic-key in response.sse_events[1]"]


def test_pattern_scan_can_be_switched_off():
    config = ScrubConfig(scan_patterns=False)
    scrubbed, removed = scrub_http({"request": {"body": f"raw {OPENAI_KEY}"}}, config)
    assert scrubbed["request"]["body"] == f"raw {OPENAI_KEY}"
    assert removed == []


# -- purity and idempotence ----------------------------------------------------------------
def test_scrub_http_does_not_mutate_its_input():
    original = _interaction()
    before = copy.deepcopy(original)
    scrub_http(original)
    assert original == before


def test_scrubbing_twice_removes_nothing_the_second_time():
    once, removed = scrub_http(_interaction())
    assert removed
    twice, removed_again = scrub_http(once)
    assert twice == once
    assert removed_again == []


def test_an_unchanged_interaction_shares_its_parts():
    clean = {"request": {"method": "GET", "url": "https://x.test/", "body": {"a": [1, 2]}}}
    scrubbed, removed = scrub_http(clean)
    assert removed == []
    assert scrubbed["request"]["body"] is clean["request"]["body"]


def test_removed_never_contains_the_secret_itself():
    _, removed = scrub_http(_interaction())
    assert not any(OPENAI_KEY in r or GOOGLE_KEY in r or "secret-in-body" in r for r in removed)


# -- entries -------------------------------------------------------------------------------
def test_scrub_entry_cleans_the_http_metadata_and_every_text_field():
    entry = RecordEntry(
        "http_interaction",
        agent_name="writer",
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"my key {OPENAI_KEY}"}],
        response=f"echo {GOOGLE_KEY}",
        metadata={"provider": "openai", "http": _interaction()},
    )
    scrubbed, removed = scrub_entry(entry)
    assert scrubbed is not entry
    assert scrubbed.messages == [{"role": "user", "content": "my key <redacted:authorization>"}]  # by value
    assert scrubbed.response == "echo <redacted:key>"  # by value: learnt from ?key=
    assert scrubbed.metadata["provider"] == "openai"
    assert scrubbed.metadata["http"]["request"]["headers"]["Authorization"] == [REDACTED]
    assert "metadata.http.request.headers.Authorization" in removed
    assert "secret-value in messages[0].content" in removed
    assert "secret-value in response" in removed
    assert entry.response == f"echo {GOOGLE_KEY}"  # the original is untouched


def test_a_clean_entry_comes_back_as_the_same_object():
    entry = RecordEntry("llm_call", agent_name="a", messages=[{"role": "user", "content": "hi"}], response="ok")
    assert scrub_entry(entry) == (entry, [])
    assert scrub_entry(entry)[0] is entry


def test_an_entry_whose_http_metadata_is_not_a_dict_is_still_pattern_scanned():
    entry = RecordEntry("http_interaction", metadata={"http": f"weird {OPENAI_KEY}"})
    scrubbed, removed = scrub_entry(entry)
    assert scrubbed.metadata == {"http": "weird <redacted:openai-key>"}
    assert removed == ["openai-key in metadata.http"]


# -- configuration -------------------------------------------------------------------------
def test_with_extra_adds_to_the_defaults_and_lowercases_names():
    config = ScrubConfig().with_extra(headers=["X-My-Secret"], query="Session")
    assert "x-my-secret" in config.headers
    assert "authorization" in config.headers
    assert "session" in config.query_params
    scrubbed, _ = scrub_http(
        {"request": {"url": "https://x.test/?SESSION=1", "headers": {"x-my-SECRET": ["v"]}}}, config
    )
    assert scrubbed["request"]["headers"]["x-my-SECRET"] == [REDACTED]
    assert scrubbed["request"]["url"] == "https://x.test/?SESSION=<redacted>"


def test_the_config_is_frozen_and_with_extra_returns_a_new_one():
    base = ScrubConfig()
    extra = base.with_extra(headers=["x-a"])
    assert "x-a" not in base.headers
    with pytest.raises(AttributeError):
        base.headers = frozenset()  # type: ignore[misc]
    assert extra != base


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"headers": [1]}, "headers"),
        ({"query_params": [""]}, "query_params"),
        ({"body_paths": [()]}, "body_paths"),
        ({"body_paths": [("a", 2)]}, "body_paths"),
    ],
)
def test_bad_config_values_say_what_is_wrong(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        ScrubConfig(**kwargs)


def test_scrub_http_rejects_a_non_mapping():
    with pytest.raises(TypeError, match="dict"):
        scrub_http(["not", "a", "dict"])  # type: ignore[arg-type]


def test_scrubbing_a_large_interaction_has_no_pathological_slowness():
    """A 20-message, 40 kB chat scrubs in ~0.1 ms; the 10 ms budget only catches regex blow-ups."""
    interaction = _interaction()
    interaction["request"]["body"]["messages"] = [{"role": "user", "content": "word " * 400} for _ in range(20)]
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        scrub_http(interaction)
    per_call = (time.perf_counter() - start) / runs
    assert per_call < 0.01
