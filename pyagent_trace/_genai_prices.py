"""The genai-prices package as our price source: offline, dated, cached per call period.

genai-prices (pydantic) keeps current and historic list prices of the main providers,
cache read/write and long-context tiers included, in data shipped with the package; it
fetches newer data only when a user starts its ``UpdatePrices`` (we never do). Its own
``calc_price`` costs ~100 µs a call (Decimal arithmetic over a unit registry), too much on
the replay path, so each (provider, model, UTC day) resolves once to a :class:`Quote` of
float rates that prices a call in well under a microsecond. The package is imported on the
first price lookup, never at import time: a session that prices nothing does not pay its
~0.2 s import.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyagent_trace._gc import gc_paused

if TYPE_CHECKING:
    from pyagent_trace.pricing import ModelPrice

__all__ = ["ALIASES", "PROVIDER_IDS", "Quote", "genai_quote", "genai_version"]

_DAY = 86_400
_MINUTE = 60
_CACHE_LIMIT = 4096

PROVIDER_IDS: Mapping[str, str] = {
    # Our provider names (http/providers.py, llm_call metadata, user spellings) -> genai-prices ids.
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "google": "google",
    "google-genai": "google",
    "vertex": "google",
    "vertex_ai": "google",
    "bedrock": "aws",
    "aws": "aws",
    "azure": "azure",
}
ALIASES: Mapping[str, str] = {
    # The one hand-kept fallback, and why: the product docs and pyagent-patterns examples spell
    # Claude 3.x models the 4.x way round ("claude-haiku-3-5-20241022"); Anthropic's API never
    # did, so genai-prices has no such name. Prices still come from genai-prices' data.
    "claude-haiku-3-5": "claude-3-5-haiku",
    "claude-sonnet-3-7": "claude-3-7-sonnet",
    "claude-sonnet-3-5": "claude-3-5-sonnet",
    "claude-opus-4-0": "claude-opus-4",
    "claude-sonnet-4-0": "claude-sonnet-4",
}
# Spellings genai-prices does not match but the APIs and routers send: "models/gemini-2.5-flash"
# (Gemini REST paths), "openai/gpt-4o-mini" (OpenRouter, LiteLLM), Bedrock's "us.anthropic.".
_BEDROCK_PREFIX = re.compile(r"^(?:(?:us|eu|apac|global)\.)?(?:anthropic|google|openai)\.")


@dataclass(frozen=True, slots=True)
class Quote:
    """The price in force for one model at one time, and where it came from.

    ``tiers`` are ``(threshold, price)``: above ``threshold`` input tokens (cached ones
    included) the whole call is billed at ``price`` (the providers' long-context "cliff").
    """

    price: ModelPrice
    source: str
    model: str
    provider: str = ""
    tiers: tuple[tuple[int, ModelPrice], ...] = ()
    per_request: float = 0.0

    def cost(self, inp: int, out: int, read: int, write: int) -> float:
        """USD of one call; ``inp`` counts all input tokens, ``read``/``write`` are part of it."""
        price = self.price
        if self.tiers:
            for threshold, tier in reversed(self.tiers):
                if inp > threshold:
                    price = tier
                    break
        read_price = price.input if price.cache_read is None else price.cache_read
        write_price = price.input if price.cache_write is None else price.cache_write
        total = (inp - read - write) * price.input + read * read_price + write * write_price
        return (total + out * price.output) / 1e6 + self.per_request


@functools.cache
def genai_version() -> str:
    """The installed genai-prices version (its data is as new as the package)."""
    try:
        import genai_prices  # its import reads its own version: no second metadata scan
    except ImportError:
        return "not installed"
    return str(genai_prices.__version__)


@dataclass(frozen=True, slots=True)
class _Model:
    info: Any  # genai_prices.types.ModelInfo
    provider: str
    step: int  # seconds per price period: a day, or a minute for time-of-day (off-peak) prices


_hot: dict[tuple[str | None, str, int], Quote | None] = {}  # (provider, model, UTC day)
_models: dict[tuple[str | None, str], _Model | None] = {}
_quotes: dict[tuple[int, int], Quote] = {}
# genai-prices' module of snapshots once imported, and the user's snapshot (set by its
# UpdatePrices, which only the user starts) the caches were filled under: a new one resets them.
_state: dict[str, Any] = {"module": None, "custom": None}


def genai_quote(model: str, provider: str | None, timestamp: float) -> Quote | None:
    """The genai-prices price of ``model`` at ``timestamp`` (Unix seconds), or None when
    genai-prices does not know the model. ``provider`` is a hint: a model it does not list
    under that provider (an OpenAI-compatible API serving DeepSeek) is looked up by name."""
    module = _state["module"]
    if module is not None and module._custom_snapshot is not _state["custom"]:
        _reset(module._custom_snapshot)
    hot = (provider, model, int(timestamp // _DAY))
    try:
        return _hot[hot]
    except KeyError:
        pass
    key = (provider, model)
    try:
        found = _models[key]
    except KeyError:
        found = _find(model, provider)
        if len(_models) >= _CACHE_LIMIT:
            _models.clear()
        _models[key] = found
    if found is None:
        quote = None
    else:
        period = int(timestamp // found.step)
        qkey = (id(found.info), period)
        quote = _quotes.get(qkey)
        if quote is None:
            quote = _quotes[qkey] = _compile(found, period * found.step)
        if found.step != _DAY:  # off-peak prices change within a day: not cached per day
            return quote
    if len(_hot) >= _CACHE_LIMIT:
        _hot.clear()  # many distinct made-up names or days: stay bounded
        _quotes.clear()
    _hot[hot] = quote
    return quote


def _reset(custom: Any) -> None:
    """Forget every cached price: the user started genai-prices' updater and it fetched."""
    _state["custom"] = custom
    _hot.clear()
    _models.clear()
    _quotes.clear()


def _find(model: str, provider: str | None) -> _Model | None:
    with gc_paused():  # the first call builds genai-prices' whole price list
        from genai_prices import data_snapshot, types

        if _state["module"] is None:
            _state["module"] = data_snapshot
            _state["custom"] = data_snapshot._custom_snapshot
        snapshot = data_snapshot.get_snapshot()
    raw = model.strip().lower()
    short = _BEDROCK_PREFIX.sub("", raw.rsplit("/", 1)[-1])
    hint = PROVIDER_IDS.get(provider.strip().lower(), provider) if provider else None
    alias = next((canon + short[len(a) :] for a, canon in ALIASES.items() if short.startswith(a)), short)
    refs = [(raw, hint), (raw, None), (short, hint), (short, None), (alias, hint), (alias, None)]
    for ref, pid in dict.fromkeys(refs):
        try:
            found_provider, info = snapshot.find_provider_model(ref, None, pid, None)
        except (LookupError, ValueError):
            continue
        timed = isinstance(info.prices, list) and any(
            isinstance(c.constraint, types.TimeOfDateConstraint) for c in info.prices
        )
        return _Model(info, str(found_provider.id), _MINUTE if timed else _DAY)
    return None


def _compile(found: _Model, timestamp: int) -> Quote:
    """Float rates of the genai-prices price in force at ``timestamp``: the base price, one
    price per tier threshold, and any per-request fee (USD per 1,000 requests there)."""
    from genai_prices.types import TieredPrices as Tiered

    from pyagent_trace.pricing import ModelPrice

    at = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    rates = found.info.get_prices(at)
    keys = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
    values = [getattr(rates, k, None) for k in keys]
    starts = sorted({t.start for v in values if isinstance(v, Tiered) for t in v.tiers})

    def at_tier(value: Any, start: int | None) -> float | None:
        if value is None:
            return None
        if not isinstance(value, Tiered):
            return float(value)
        chosen = value.base
        for tier in value.tiers:
            if start is not None and tier.start <= start:
                chosen = tier.price
        return float(chosen)

    def price_at(start: int | None) -> ModelPrice:
        inp, out, read, write = (at_tier(v, start) for v in values)
        return ModelPrice(inp or 0.0, out or 0.0, read, write)

    requests = getattr(rates, "requests_kcount", None)
    return Quote(
        price=price_at(None),
        source=f"genai-prices {genai_version()}",
        model=str(found.info.id),
        provider=found.provider,
        tiers=tuple((start, price_at(start)) for start in starts),
        per_request=float(requests) / 1000 if requests is not None else 0.0,
    )
