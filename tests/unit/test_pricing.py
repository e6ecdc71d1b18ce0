"""PriceTable: user prices with forgiving model-name lookup over genai-prices, cache-token math, overrides."""

from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import math

import pytest

from pyagent_trace.exceptions import ConfigError
from pyagent_trace.pricing import DEFAULT_PRICES, ModelPrice, PriceTable, validate_tokens

TODAY = datetime.date(2025, 1, 1)

REQUIRED_MODELS = [
    "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
    "gpt-4o", "gpt-4o-mini", "o3", "o3-mini", "o4-mini",
    "claude-opus-4-1", "claude-opus-4", "claude-sonnet-4-5", "claude-sonnet-4",
    "claude-3-7-sonnet", "claude-haiku-4-5", "claude-3-5-haiku",
    "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash",
]  # fmt: skip


# -- ModelPrice -----------------------------------------------------------------------------
def test_model_price_is_a_frozen_slotted_dataclass():
    price = ModelPrice(1.0, 2.0)
    assert not hasattr(price, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        price.input = 3.0  # type: ignore[misc]


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, "1.0", True])
def test_model_price_rejects_prices_that_are_not_finite_non_negative_numbers(bad):
    with pytest.raises(ConfigError, match=r"ModelPrice\.output=.*finite, non-negative"):
        ModelPrice(1.0, bad)


def test_model_price_cache_prices_default_to_none_meaning_billed_as_input():
    assert ModelPrice(1.0, 2.0).cache_read is None
    table = PriceTable({"m": ModelPrice(1.0, 2.0)}, as_of=TODAY)
    assert table.cost("m", 1_000_000, 0, cache_read_tokens=400_000) == pytest.approx(1.0)


# -- DEFAULT_PRICES: genai-prices, no hand-kept table -----------------------------------------
@pytest.mark.parametrize("model", REQUIRED_MODELS)
def test_default_prices_cover_the_current_openai_anthropic_and_google_models(model):
    assert model in DEFAULT_PRICES
    assert DEFAULT_PRICES.quote(model).source.startswith("genai-prices ")


def test_default_prices_keep_no_table_of_their_own_and_name_their_source():
    assert len(DEFAULT_PRICES) == 0
    assert DEFAULT_PRICES.as_of is None
    assert DEFAULT_PRICES.source == f"genai-prices {importlib.metadata.version('genai-prices')}"
    assert "over genai-prices" in repr(DEFAULT_PRICES)


# -- lookup in a user's table -----------------------------------------------------------------
USER = PriceTable(
    {name: ModelPrice(1.0, 2.0) for name in ("gpt-4o", "gpt-4o-mini", "gpt-4o-2024-05-13", "gpt-5", "o3-mini",
     "claude-sonnet-4", "claude-sonnet-4-5", "claude-opus-4-1", "claude-opus-4", "claude-3-5-haiku",
     "gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash")},
    as_of=TODAY,
)  # fmt: skip


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("gpt-4o", "gpt-4o"),
        ("GPT-4o", "gpt-4o"),
        ("openai/gpt-4o", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("anthropic/claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-haiku-3-5-20241022", "claude-3-5-haiku"),
        ("claude-sonnet-4@20250514", "claude-sonnet-4"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku"),
        ("openrouter/anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("google/gemini-2.5-pro", "gemini-2.5-pro"),
        ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"),
        ("gemini-2.5-flash-lite-preview-06-17", "gemini-2.5-flash-lite"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("  Gemini-2.5-Flash-Latest ", "gemini-2.5-flash"),
    ],
)
def test_lookup_resolves_real_world_spellings_to_the_longest_known_model(spelling, canonical):
    assert USER.lookup(spelling) is USER.prices[canonical]
    assert USER.quote(spelling).model == canonical


@pytest.mark.parametrize(
    "model",
    ["unknown", "my-model", "claude-opus-4-6", "gpt-5.1", "gemini-2.5-flash-image", "gpt-4o-x"],
)
def test_lookup_returns_none_for_unknown_models_instead_of_a_near_miss(model):
    assert USER.lookup(model) is None
    assert model not in USER


def test_a_users_table_given_whole_does_not_fall_back_to_genai_prices():
    assert not USER.genai_prices
    assert USER.cost("o1-mini", 10, 10) is None


def test_lookup_caches_each_resolution_per_model_string():
    table = PriceTable({"m": ModelPrice(1.0, 2.0)}, as_of=TODAY)
    first = table.quote("openai/M-2025-01-01")
    assert list(table._resolved) == ["openai/M-2025-01-01"]
    assert table.quote("openai/M-2025-01-01") is first
    assert (first.model, first.source) == ("m", "user price")


def test_lookup_cache_stays_bounded_under_many_made_up_names():
    table = PriceTable({"m": ModelPrice(1.0, 2.0)}, as_of=TODAY)
    for i in range(5000):
        table.lookup(f"made-up-{i}")
    assert len(table._resolved) <= 4096


def test_lookup_rejects_a_model_that_is_not_a_string():
    with pytest.raises(TypeError, match=r"model=42"):
        DEFAULT_PRICES.lookup(42)  # type: ignore[arg-type]


# -- cost -----------------------------------------------------------------------------------
CACHED = PriceTable(
    {"gpt-4o": ModelPrice(2.50, 10.00, 1.25), "claude-sonnet-4": ModelPrice(3.00, 15.00, 0.30, 3.75)}, as_of=TODAY
)


def test_cost_of_plain_input_and_output_tokens():
    assert PriceTable({"m": ModelPrice(0.15, 0.60)}).cost("m", 1_000_000, 1_000_000) == pytest.approx(0.75)


def test_cost_openai_style_cached_tokens_are_a_subset_of_input_tokens():
    # OpenAI usage: prompt_tokens=10_000 of which cached_tokens=8_000; 500 completion tokens.
    cost = CACHED.cost("gpt-4o", 10_000, 500, cache_read_tokens=8_000)
    assert cost == pytest.approx((2_000 * 2.50 + 8_000 * 1.25 + 500 * 10.00) / 1e6)


def test_cost_anthropic_style_cache_reads_and_writes_added_to_input_tokens():
    # Anthropic usage: input_tokens=100, cache_read_input_tokens=5_000,
    # cache_creation_input_tokens=2_000, output_tokens=300 -> input_tokens=7_100 here.
    cost = CACHED.cost("claude-sonnet-4-20250514", 7_100, 300, cache_read_tokens=5_000, cache_write_tokens=2_000)
    assert cost == pytest.approx((300 + 1_500 + 7_500 + 4_500) / 1e6)


def test_cost_is_none_for_an_unknown_model():
    assert DEFAULT_PRICES.cost("my-model", 10, 10) is None


def test_cost_rejects_cache_tokens_that_exceed_input_tokens_naming_the_arguments():
    msg = r"cache_read_tokens=80 \+ cache_write_tokens=30 exceed input_tokens=100"
    with pytest.raises(ConfigError, match=msg):
        DEFAULT_PRICES.cost("gpt-4o", 100, 0, cache_read_tokens=80, cache_write_tokens=30)


def test_cost_validates_tokens_even_for_unknown_models():
    with pytest.raises(ConfigError, match=r"output_tokens=-1"):
        DEFAULT_PRICES.cost("my-model", 10, -1)


@pytest.mark.parametrize("bad", ["2025-01-01", math.nan, True])
def test_cost_rejects_a_time_that_is_not_one_naming_the_argument(bad):
    with pytest.raises(ConfigError, match=r"at=.*Unix seconds, a datetime or a date"):
        DEFAULT_PRICES.cost("gpt-4o", 10, 10, at=bad)


# -- validate_tokens ------------------------------------------------------------------------
def test_validate_tokens_accepts_ints_and_whole_floats():
    assert validate_tokens("input_tokens", 450) == 450
    assert validate_tokens("input_tokens", 450.0) == 450
    assert type(validate_tokens("input_tokens", 450.0)) is int


def test_validate_tokens_rejects_negative_counts_naming_argument_and_value():
    with pytest.raises(ConfigError, match=r"input_tokens=-5: .*cannot be negative"):
        validate_tokens("input_tokens", -5)


@pytest.mark.parametrize("bad", [1.5, math.nan, math.inf])
def test_validate_tokens_rejects_fractional_or_non_finite_floats(bad):
    with pytest.raises(ConfigError, match=r"input_tokens=.*whole number"):
        validate_tokens("input_tokens", bad)


@pytest.mark.parametrize("bad", ["450", True, None, [1]])
def test_validate_tokens_rejects_strings_bools_and_other_types(bad):
    with pytest.raises(TypeError, match=r"input_tokens=.*must be an int"):
        validate_tokens("input_tokens", bad)


# -- construction and overrides -------------------------------------------------------------
def test_price_table_is_immutable():
    with pytest.raises(TypeError):
        USER.prices["gpt-4o"] = ModelPrice(0, 0)  # type: ignore[index]
    with pytest.raises(AttributeError):
        DEFAULT_PRICES.as_of = TODAY  # type: ignore[misc]


def test_price_table_as_of_must_be_a_date_when_given():
    with pytest.raises(ConfigError, match=r"as_of='2025-01-01'"):
        PriceTable({}, as_of="2025-01-01")  # type: ignore[arg-type]


def test_price_table_accepts_dict_prices_and_lowercases_names():
    table = PriceTable({"My-Model": {"input": 1.0, "output": 2.0}}, as_of=TODAY, source="x")
    assert table.lookup("my-model") == ModelPrice(1.0, 2.0)
    assert (len(table), list(table), table.source) == (1, ["my-model"], "x")
    assert "as_of=2025-01-01" in repr(table)


def test_with_overrides_user_prices_win_and_the_original_is_unchanged():
    genai_gpt_4o = DEFAULT_PRICES.lookup("gpt-4o")
    table = DEFAULT_PRICES.with_overrides({"gpt-4o": {"input": 1.0, "output": 1.0}, "my-model": ModelPrice(2.0, 4.0)})
    assert table.lookup("gpt-4o-2024-08-06") == ModelPrice(1.0, 1.0)
    assert table.lookup("my-model") == ModelPrice(2.0, 4.0)
    assert table.lookup("gpt-4o-mini") == DEFAULT_PRICES.lookup("gpt-4o-mini")  # the rest: genai-prices
    assert DEFAULT_PRICES.lookup("gpt-4o") == genai_gpt_4o != ModelPrice(1.0, 1.0)
    assert DEFAULT_PRICES.lookup("my-model") is None
    assert table.genai_prices
    assert table.as_of == DEFAULT_PRICES.as_of
    assert table.source.startswith("genai-prices ")
    assert table.source.endswith(" + user overrides")


def test_with_overrides_accepts_optional_cache_prices_in_dicts():
    table = DEFAULT_PRICES.with_overrides({"m": {"input": 1.0, "output": 2.0, "cache_read": 0.1, "cache_write": None}})
    assert table.lookup("m") == ModelPrice(1.0, 2.0, 0.1)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"input": 1.0}, r"missing keys \['output'\]"),
        ({"input": 1.0, "output": 2.0, "cached": 0.1}, r"unknown keys \['cached'\]"),
        (1.5, r"give a ModelPrice or a dict"),
        ({"input": -1.0, "output": 2.0}, r"ModelPrice\.input=-1\.0"),
    ],
)
def test_with_overrides_rejects_malformed_prices_with_an_example(spec, problem):
    with pytest.raises(ConfigError, match=problem):
        DEFAULT_PRICES.with_overrides({"my-model": spec})


def test_with_overrides_rejects_a_non_mapping():
    with pytest.raises(TypeError, match=r"mapping of model name to price"):
        DEFAULT_PRICES.with_overrides([("m", ModelPrice(1, 1))])  # type: ignore[arg-type]
