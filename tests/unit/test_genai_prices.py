"""Prices from genai-prices: real usage priced as genai-prices prices it, at the call's own
time in replay, user prices winning, unknown models unpriced and named, no network."""

from __future__ import annotations

import asyncio
import datetime
import json
import socket
import warnings

import genai_prices
import pytest
import real_traffic
from genai_prices import data_snapshot, extract_usage
from genai_prices.update_prices import _shared_updater

from pyagent_trace import _genai_prices
from pyagent_trace._recording import RecordEntry, save_entries
from pyagent_trace.cassette import Cassette
from pyagent_trace.cost import CostTracker
from pyagent_trace.exceptions import PyAgentTraceWarning
from pyagent_trace.http._entry import build_entry
from pyagent_trace.pricing import DEFAULT_PRICES, ModelPrice, PriceTable

UTC = datetime.UTC
NOV_2026 = datetime.datetime(2026, 11, 1, tzinfo=UTC)
# o3 cost $10/$40 per 1M tokens until OpenAI cut it to $2/$8 on 2025-06-10 (genai-prices' data).
BEFORE_CUT, AFTER_CUT = datetime.datetime(2025, 5, 1, tzinfo=UTC), datetime.datetime(2025, 7, 1, tzinfo=UTC)

# Real responses with cache reads or writes: (file, genai-prices provider id, its API flavor).
CACHED_CALLS = [
    ("openai_responses_nonstream_07.json", "openai", "responses"),  # gpt-5, cached_tokens
    ("openai_responses_stream_04.json", "openai", "responses"),  # gpt-5, streamed, cached_tokens
    ("anthropic_messages_nonstream_04.json", "anthropic", "default"),  # cache read + 5m write
    ("anthropic_messages_nonstream_08.json", "anthropic", "default"),  # cache write only
    ("google_gemini_nonstream_07.json", "google", "default"),  # cachedContentTokenCount
]


def _final_body(recorded: dict) -> dict:
    """The response body; for a stream, the final event's ``response`` (OpenAI Responses)."""
    if "body" in recorded["response"]:
        return dict(recorded["response"]["body"])
    events = [e.split("data: ", 1)[1] for e in recorded["response"]["sse_events"] if "data: {" in e]
    done = [json.loads(e) for e in events if '"response.completed"' in e]
    return dict(done[-1]["response"])


@pytest.mark.parametrize(("name", "provider", "flavor"), CACHED_CALLS)
def test_cache_token_pricing_of_real_calls_matches_genai_prices_own_answer(name, provider, flavor):
    """Our usage parsing (Anthropic's input excludes cache tokens, OpenAI's and Gemini's
    include them) plus our cached price equal genai-prices reading the raw response itself."""
    recorded = real_traffic.load(name)
    theirs = extract_usage(_final_body(recorded), provider_id=provider, api_flavor=flavor)
    expected = float(theirs.calc_price(genai_request_timestamp=NOV_2026).total_price)

    entry = build_entry(
        real_traffic.as_interaction(recorded), timestamp=NOV_2026.timestamp(), duration_ms=1.0, prices=DEFAULT_PRICES
    )
    replayed = CostTracker().record_call(entry)

    assert entry.metadata["cache_read_tokens"] + entry.metadata["cache_write_tokens"] > 0
    assert (entry.input_tokens, entry.metadata["cache_read_tokens"]) == (
        theirs.usage.input_tokens,
        theirs.usage.cache_read_tokens,
    )
    assert entry.cost_usd == pytest.approx(expected, rel=1e-9)  # recording
    assert replayed.cost_usd == pytest.approx(expected, rel=1e-9)  # replay


def test_our_cached_quotes_equal_genai_prices_for_every_openai_anthropic_and_google_model():
    """The float fast path agrees with genai-prices' own Decimal calculation over its whole
    data for the three providers, cache and long-context tiers included, at several dates."""
    usages = [(7_100, 300, 5_000, 2_000), (300_000, 1_000, 100_000, 0), (10, 5, 0, 0)]
    moments = [BEFORE_CUT, NOV_2026, datetime.datetime(2027, 2, 1, tzinfo=UTC)]
    checked = 0
    for provider in data_snapshot.get_snapshot().providers:
        if provider.id not in {"openai", "anthropic", "google"}:
            continue
        for model in provider.models:
            for at in moments:
                found = _genai_prices._Model(model, provider.id, 86_400)  # what a lookup by name caches
                quote = _genai_prices._compile(found, int(at.timestamp()))
                for inp, out, read, write in usages:
                    usage = genai_prices.Usage(
                        input_tokens=inp, output_tokens=out, cache_read_tokens=read, cache_write_tokens=write
                    )
                    expected = model.calc_price(usage, provider, genai_request_timestamp=at).total_price
                    assert quote.cost(inp, out, read, write) == pytest.approx(float(expected), rel=1e-9), model.id
                    checked += 1
    assert checked > 1000


async def _replay(path, prices=None):
    tracker = CostTracker(prices=prices)
    with Cassette(path, mode="none", tracker=tracker) as cassette:
        await cassette.llm(agent_name="analyst")([{"role": "user", "content": "Summarise Q3."}])
    return tracker.entries[0]


def _o3_cassette(tmp_path, when: datetime.datetime):
    """A cassette line recorded with o3 at ``when`` (its cost_usd is a stale note: not read back)."""
    asked = [{"role": "user", "content": "Summarise Q3."}]
    entry = RecordEntry("llm_call", agent_name="analyst", model="o3-2025-04-16", timestamp=when.timestamp(),
                        input_tokens=1_000_000, output_tokens=100_000, tokens=1_100_000, cost_usd=123.0,
                        priced=True, messages=asked, response="Up 4%.")  # fmt: skip
    return save_entries(tmp_path / f"o3-{when.date()}.jsonl", [entry])


def test_a_replayed_call_costs_the_price_in_force_when_it_was_recorded(tmp_path):
    before = asyncio.run(_replay(_o3_cassette(tmp_path, BEFORE_CUT)))
    after = asyncio.run(_replay(_o3_cassette(tmp_path, AFTER_CUT)))

    assert before.cost_usd == pytest.approx(10.0 + 4.0)  # 1M input at $10 + 100k output at $40
    assert after.cost_usd == pytest.approx(2.0 + 0.8)  # the same call after the 2025-06-10 cut
    assert before.priced
    assert after.priced


def test_user_prices_win_over_genai_prices_in_replay(tmp_path):
    path = _o3_cassette(tmp_path, BEFORE_CUT)

    entry = asyncio.run(_replay(path, prices={"o3": {"input": 1.0, "output": 1.0}}))

    assert entry.cost_usd == pytest.approx(1.0 + 0.1)


def test_an_unknown_model_is_unpriced_never_free_and_named_with_how_to_price_it():
    tracker = CostTracker()
    entry = RecordEntry("llm_call", agent_name="a", model="house-model-7", timestamp=NOV_2026.timestamp(),
                        input_tokens=50, output_tokens=5, tokens=55)  # fmt: skip

    with pytest.warns(PyAgentTraceWarning) as caught:
        recorded = tracker.record_call(entry)

    assert not recorded.priced
    assert recorded.cost_usd == 0.0
    message = str(caught[0].message)
    assert "'house-model-7'" in message
    assert "genai-prices" in message
    assert 'prices={"house-model-7": {"input": ..., "output": ...}}' in message
    assert "house-model-7" in tracker.summary().unpriced_line()


@pytest.fixture
def no_sockets(monkeypatch):
    """Any socket opened, any name resolved, fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"pricing opened the network: {args!r}")

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse(*args)

    monkeypatch.setattr(socket, "socket", NoSocket)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_pricing_never_opens_a_socket_and_leaves_the_updater_off(no_sockets):
    for cache in (_genai_prices._hot, _genai_prices._models, _genai_prices._quotes):
        cache.clear()  # make every lookup below go to genai-prices' data, not our cache
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        models = ("gpt-4o-mini", "claude-sonnet-4", "gemini-2.5-flash", "o1-mini", "claude-opus-4-6", "gpt-5")
        costs = [DEFAULT_PRICES.cost(m, 1_000, 100, 200, at=NOV_2026) for m in models]

    assert all(cost is not None and cost > 0 for cost in costs)
    assert _shared_updater.ref_count == 0
    assert data_snapshot._custom_snapshot is None  # the data shipped with the package


def test_a_quote_names_its_source_and_its_long_context_tiers():
    quote = DEFAULT_PRICES.quote("claude-sonnet-4-5", provider="anthropic", at=NOV_2026)
    override = DEFAULT_PRICES.with_overrides({"claude-sonnet-4-5": ModelPrice(1.0, 2.0)}).quote("claude-sonnet-4-5")

    assert quote is not None
    assert override is not None
    assert quote.source == f"genai-prices {genai_prices.__version__}"
    assert (quote.model, quote.provider) == ("claude-sonnet-4-5", "anthropic")
    assert quote.tiers
    assert quote.tiers[0][0] == 200_000
    assert quote.cost(300_000, 0, 0, 0) == pytest.approx(300_000 * quote.tiers[0][1].input / 1e6)
    assert override.source == "user overrides"
    assert PriceTable({"m": ModelPrice(1.0, 2.0)}).quote("m").source == "user price"


def test_the_provider_is_a_hint_a_model_served_elsewhere_is_still_found():
    """An OpenAI-compatible API (our provider "openai") serving DeepSeek is priced as DeepSeek."""
    quote = DEFAULT_PRICES.quote("deepseek-reasoner", provider="openai", at=NOV_2026)
    gemini = DEFAULT_PRICES.quote("models/gemini-2.5-flash", provider="gemini", at=NOV_2026)

    assert quote is not None
    assert quote.provider == "deepseek"
    assert gemini is not None
    assert (gemini.model, gemini.provider) == ("gemini-2.5-flash", "google")


def test_off_peak_prices_are_priced_by_the_time_of_day_of_the_call():
    """DeepSeek's time-of-day prices change within a day: not cached per day."""
    peak, off_peak = (datetime.datetime(2026, 11, 2, hour, tzinfo=UTC) for hour in (10, 20))
    usage = genai_prices.Usage(input_tokens=1_000_000, output_tokens=0)

    costs = [DEFAULT_PRICES.cost("deepseek-chat", 1_000_000, 0, provider="deepseek", at=t) for t in (peak, off_peak)]
    expected = [genai_prices.calc_price(usage, "deepseek-chat", provider_id="deepseek", genai_request_timestamp=t)
                for t in (peak, off_peak)]  # fmt: skip

    assert costs == pytest.approx([float(e.total_price) for e in expected])
    assert costs[0] != costs[1]


def test_prices_fetched_by_genai_prices_updater_when_a_user_starts_it_replace_the_cached_ones(monkeypatch):
    """We never start genai-prices' updater; a user who does gets its prices on the next call."""
    from decimal import Decimal

    from genai_prices import types

    def one_million_input() -> float | None:
        return DEFAULT_PRICES.cost("gpt-4o-mini", 1_000_000, 0, provider="openai", at=NOV_2026)

    assert one_million_input() == pytest.approx(0.15)  # cached now
    model = types.ModelInfo(id="gpt-4o-mini", match=types.ClauseEquals(equals="gpt-4o-mini"),
                            prices=types.ModelPrice(input_mtok=Decimal(1), output_mtok=Decimal(2)))  # fmt: skip
    fetched = data_snapshot.DataSnapshot(
        providers=[types.Provider(id="openai", name="OpenAI", api_pattern="x", models=[model])], from_auto_update=True
    )
    monkeypatch.setattr(data_snapshot, "_custom_snapshot", fetched)

    assert one_million_input() == pytest.approx(1.0)
    monkeypatch.undo()
    assert one_million_input() == pytest.approx(0.15)
