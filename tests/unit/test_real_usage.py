"""Canonical usage parsed from real provider responses (shared/real-traffic: OpenAI,
Anthropic, Gemini and OpenAI-compatible hosts; plain, streamed, cached, reasoning) equals
the usage each provider reported, normalised to one convention."""

from __future__ import annotations

import pytest
from real_traffic import as_interaction, index, load

from pyagent_trace.http.providers import parse_call
from pyagent_trace.usage import Usage

CALLS = [row["file"] for row in index() if not row["error"]]
FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")


@pytest.mark.parametrize("name", CALLS)
def test_usage_parsed_from_a_real_response_is_the_usage_the_provider_reported(name):
    recorded = load(name)
    interaction = as_interaction(recorded)
    expected = recorded["expected_usage"]

    call = parse_call(interaction["request"], interaction["response"])

    assert call is not None
    if expected["reported"] is None:  # a response without any usage block
        assert call.usage is None
        return
    assert call.usage == Usage(**{f: expected[f] or 0 for f in FIELDS})


def test_the_real_traffic_covers_streams_caches_and_reasoning_of_each_provider():
    tags = {tag for row in index() if not row["error"] for tag in row["tags"]}
    assert {"cache_read", "cache_write", "reasoning_tokens", "include_usage"} <= tags
    assert {row["provider"] for row in index() if row["stream"]} >= {"openai", "anthropic", "google"}


def test_usages_add_up_field_by_field():
    assert Usage(10, 5, 2, 1, 3) + Usage(1, 1, 0, 0, 1) == Usage(11, 6, 2, 1, 4)
    assert Usage(10, 5).total_tokens == 15
