"""Model prices: the genai-prices package's data, under the user's own prices, as of the call.

One seam: :func:`price_table` turns every ``prices=`` argument into a :class:`PriceTable`,
and :meth:`PriceTable.cost` prices every call. ``DEFAULT_PRICES`` has no hand-kept table:
it asks genai-prices (current and historic list prices, shipped offline with the package,
never updated over the network unless the user starts its updater), priced at the call's
own timestamp so a replayed call costs what it cost when it was recorded. User prices
(:meth:`PriceTable.with_overrides`) win; an unknown model resolves to ``None`` (never $0).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import datetime
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

from pyagent_trace._genai_prices import ALIASES, Quote, genai_quote, genai_version
from pyagent_trace._schema import validate_tokens
from pyagent_trace.exceptions import ConfigError

__all__ = [
    "DEFAULT_PRICES", "ModelPrice", "PriceSpec", "PriceTable", "Quote", "call_cost", "price_table", "validate_tokens",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens. A cache price of ``None`` bills those tokens as plain input."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name.startswith("cache_"):
                continue
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value < 0:
                msg = (
                    f"ModelPrice.{f.name}={value!r}: a price must be a finite, non-negative "
                    "number of USD per million tokens."
                )
                raise ConfigError(msg)


PriceSpec = ModelPrice | Mapping[str, float | None]
"""A price as users write it: a ModelPrice or ``{"input": 0.15, "output": 0.6}``."""


def _to_price(model: str, spec: object) -> ModelPrice:
    if isinstance(spec, ModelPrice):
        return spec
    if not isinstance(spec, Mapping):
        msg = f"Price for {model!r} is {spec!r}: give a ModelPrice or a dict like {_EXAMPLE}."
        raise ConfigError(msg)
    allowed = {f.name for f in fields(ModelPrice)}
    unknown = sorted(set(spec) - allowed)
    missing = sorted({"input", "output"} - set(spec))
    if unknown or missing:
        problem = f"unknown keys {unknown}" if unknown else f"missing keys {missing}"
        msg = f"Price for {model!r} has {problem}: expected a dict like {_EXAMPLE}."
        raise ConfigError(msg)
    return ModelPrice(**spec)


_EXAMPLE = '{"input": 0.15, "output": 0.6, "cache_read": 0.075}'

# A known name may be followed only by a version tag: a date or build number (3+ digits,
# or "@date" on Vertex), "latest", "preview", "exp", then more such parts ("-v1:0" on
# Bedrock, "-05-20" preview dates). A bare "-6" after "claude-opus-4" is a different
# model (claude-opus-4-6), not a snapshot: it stays unknown instead of being mispriced.
_TAG = r"(?:\d+|latest|preview|exp|v\d+)"
_VERSION_SUFFIX = re.compile(rf"(?:[-@](?:\d{{3,}}|latest|preview|exp)|@\d+)(?:[-@:.]{_TAG})*")
_BEDROCK_PREFIX = re.compile(r"^(?:(?:us|eu|apac|global)\.)?(?:anthropic|google|openai)\.")
_CLAUDE_DOTTED = re.compile(r"(?<=\d)\.(?=\d)")  # OpenRouter's claude-sonnet-4.5, claude-3.5-haiku
_CACHE_LIMIT = 4096


Moment = float | datetime.datetime | datetime.date | None
"""When a call was made: Unix seconds (``RecordEntry.timestamp``), a datetime (naive means
UTC), a date (its start, UTC), or None for now."""


def _seconds(at: Moment) -> float:
    if type(at) is float and math.isfinite(at):
        return at
    if at is None:
        return time.time()
    if isinstance(at, datetime.datetime):
        return (at if at.tzinfo else at.replace(tzinfo=datetime.UTC)).timestamp()
    if isinstance(at, datetime.date):
        return datetime.datetime(at.year, at.month, at.day, tzinfo=datetime.UTC).timestamp()
    if isinstance(at, int | float) and not isinstance(at, bool) and math.isfinite(at):
        return float(at)
    msg = f"at={at!r}: give Unix seconds, a datetime or a date (when the call was made), or None for now."
    raise ConfigError(msg)


class PriceTable:
    """Dated prices with forgiving model-name lookup, optionally over genai-prices' data.

    The table's own prices (the user's) are looked up case-insensitively, through provider
    prefixes (``openai/gpt-4o``, ``models/gemini-2.5-flash``, Bedrock's ``anthropic.``) and
    dated or tagged snapshots (``gpt-4o-mini-2024-07-18``, ``-latest``, ``-preview-05-20``)
    by the longest known name. With ``genai_prices=True`` a model the table lacks is priced
    from the genai-prices package at the call's time (``at=``), cache and long-context tier
    prices included. Resolutions are cached per model string, and per (provider, model, day)
    in genai-prices, because pricing runs on every replayed call.
    """

    __slots__ = ("_as_of", "_genai", "_keys", "_prices", "_resolved", "_source")

    def __init__(
        self,
        prices: Mapping[str, PriceSpec],
        *,
        as_of: datetime.date | None = None,
        source: str = "",
        genai_prices: bool = False,
    ) -> None:
        if as_of is not None and not isinstance(as_of, datetime.date):
            msg = f"PriceTable(as_of={as_of!r}): give the date the prices were checked (a datetime.date), or None."
            raise ConfigError(msg)
        table = {str(name).strip().lower(): _to_price(name, spec) for name, spec in prices.items()}
        self._prices: Mapping[str, ModelPrice] = MappingProxyType(table)
        keys = {alias: canon for alias, canon in ALIASES.items() if canon in table}
        keys.update({name: name for name in table})
        # Longest first, so the first prefix hit is the most specific known model.
        self._keys = tuple(sorted(keys.items(), key=lambda kv: -len(kv[0])))
        self._as_of = as_of
        self._source = source
        self._genai = bool(genai_prices)
        self._resolved: dict[str, Quote | None] = {}

    @property
    def as_of(self) -> datetime.date | None:
        """When the table's own prices were checked (None: not said; genai-prices data is
        as new as the installed package)."""
        return self._as_of

    @property
    def source(self) -> str:
        """Where the prices come from, e.g. ``"genai-prices 0.2.3 + user overrides"``."""
        parts = [f"genai-prices {genai_version()}"] if self._genai else []
        return " + ".join([*parts, self._source] if self._source else parts)

    @property
    def genai_prices(self) -> bool:
        """Whether models missing from the table are priced from the genai-prices package."""
        return self._genai

    @property
    def prices(self) -> Mapping[str, ModelPrice]:
        """Read-only view of the table's own prices, keyed by lower-case model name (the
        genai-prices models are not listed: ask :meth:`quote`)."""
        return self._prices

    def __len__(self) -> int:
        return len(self._prices)

    def __iter__(self) -> Iterator[str]:
        return iter(self._prices)

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and self.quote(model) is not None

    def __repr__(self) -> str:
        over = " over genai-prices" if self._genai else ""
        dated = f", as_of={self._as_of.isoformat()}" if self._as_of else ""
        return f"PriceTable({len(self)} models{over}{dated})"

    def quote(self, model: str, *, provider: str | None = None, at: Moment = None) -> Quote | None:
        """The price of ``model`` in force ``at`` a time (default now) and its source, or None.

        ``provider`` ("openai", "anthropic", "gemini", ...) helps genai-prices find the model.
        """
        try:
            own = self._resolved[model]
        except KeyError:
            key = self._resolve(model)
            own = None if key is None else Quote(self._prices[key], self._source or "user price", key)
            if len(self._resolved) >= _CACHE_LIMIT:
                self._resolved.clear()  # many distinct made-up names: stay bounded
            self._resolved[model] = own
        if own is not None or not self._genai:
            return own
        return genai_quote(model, provider, _seconds(at))

    def lookup(self, model: str, *, provider: str | None = None, at: Moment = None) -> ModelPrice | None:
        """The price of ``model`` under any usual spelling (its base tier), or None when unknown."""
        found = self.quote(model, provider=provider, at=at)
        return None if found is None else found.price

    def _resolve(self, model: str) -> str | None:
        if not isinstance(model, str):
            msg = f"model={model!r}: a model name must be a str."
            raise TypeError(msg)
        raw = model.strip().lower()
        if raw in self._prices:
            return raw
        name = _BEDROCK_PREFIX.sub("", raw.rsplit("/", 1)[-1])
        if name.startswith("claude"):
            name = _CLAUDE_DOTTED.sub("-", name)
        for known, canonical in self._keys:
            if name.startswith(known):
                rest = name[len(known) :]
                if not rest or _VERSION_SUFFIX.fullmatch(rest):
                    return canonical
        return None

    def cost(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        *,
        provider: str | None = None,
        at: Moment = None,
    ) -> float | None:
        """USD for one call made ``at`` a time (default now), or None when the model is unknown.

        ``input_tokens`` counts ALL input tokens, cache reads and writes included (the
        OpenTelemetry ``gen_ai.usage.input_tokens`` and OpenAI ``prompt_tokens`` meaning, and
        genai-prices' rule); the cache counts are subsets of it. Anthropic reports them
        apart, so pass ``input_tokens + cache_read_input_tokens + cache_creation_input_tokens``.
        Cost = ((input - cache_read - cache_write) * input_price + cache_read *
        cache_read_price + cache_write * cache_write_price + output * output_price) / 1e6,
        at the tier the call's input reaches.
        """
        inp, out, read, write = validate_usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        found = self.quote(model, provider=provider, at=at)
        return None if found is None else found.cost(inp, out, read, write)

    def with_overrides(self, prices: Mapping[str, PriceSpec]) -> PriceTable:
        """A new table where the user's prices win over this one's."""
        if not isinstance(prices, Mapping):
            msg = f"with_overrides({prices!r}): give a mapping of model name to price."
            raise TypeError(msg)
        merged: dict[str, PriceSpec] = dict(self._prices)
        merged.update({str(k).strip().lower(): _to_price(k, v) for k, v in prices.items()})
        source = f"{self._source} + user overrides" if self._source else "user overrides"
        return PriceTable(merged, as_of=self._as_of, source=source, genai_prices=self._genai)


def validate_usage(
    input_tokens: object, output_tokens: object, cache_read: object, cache_write: object
) -> tuple[int, int, int, int]:
    """Checked token counts; cache reads and writes must fit inside ``input_tokens``."""
    if (  # the common case, on every replayed call: four plain ints that add up
        type(input_tokens) is int
        and type(output_tokens) is int
        and type(cache_read) is int
        and type(cache_write) is int
        and output_tokens >= 0
        and cache_read >= 0
        and cache_write >= 0
        and cache_read + cache_write <= input_tokens
    ):
        return input_tokens, output_tokens, cache_read, cache_write
    inp = validate_tokens("input_tokens", input_tokens)
    out = validate_tokens("output_tokens", output_tokens)
    read = validate_tokens("cache_read_tokens", cache_read)
    write = validate_tokens("cache_write_tokens", cache_write)
    if read + write > inp:
        msg = (
            f"cache_read_tokens={read} + cache_write_tokens={write} exceed input_tokens={inp}: "
            "input_tokens must count all input, cached included (add Anthropic's "
            "cache_read_input_tokens and cache_creation_input_tokens to its input_tokens)."
        )
        raise ConfigError(msg)
    return inp, out, read, write


def call_cost(
    prices: PriceTable,
    models: Iterable[str | None],
    usage: tuple[int, int, int, int],
    *,
    provider: str | None,
    at: Moment,
) -> float | None:
    """USD of one provider call, priced by the first of ``models`` that has a price (the
    response's exact snapshot, then the requested name); ``usage`` is (input, output,
    cache read, cache write), already checked (:func:`validate_usage`). Recording and
    replay both price calls here; it runs once per replayed call, so it stays lean."""
    tried = None
    for model in models:
        if model and model != tried:
            found = prices.quote(model, provider=provider, at=at)
            if found is not None:
                return found.cost(*usage)
            tried = model
    return None


DEFAULT_PRICES = PriceTable({}, genai_prices=True)
"""The built-in prices: the installed genai-prices package's data, as of each call. Update
them by upgrading the package; extend or correct them with ``DEFAULT_PRICES.with_overrides``."""


def price_table(prices: PriceTable | Mapping[str, PriceSpec] | None) -> PriceTable:
    """The prices a component works with: ``DEFAULT_PRICES``, a table given whole, or a
    mapping of model to price that overrides the defaults (``{"my-model": {"input": 1.0,
    "output": 2.0}}``, USD per 1M tokens). Every component taking ``prices=`` uses this."""
    if prices is None:
        return DEFAULT_PRICES
    if isinstance(prices, PriceTable):
        return prices
    return DEFAULT_PRICES.with_overrides(prices)
