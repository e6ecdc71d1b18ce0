"""Model prices, kept offline and dated, so that cost is deterministic in zero-network CI.

Prices go stale: every table carries ``as_of`` and ``source``, users override with
:meth:`PriceTable.with_overrides`, and an unknown model resolves to ``None`` (never $0).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

from pyagent_trace._schema import validate_tokens
from pyagent_trace.exceptions import ConfigError

__all__ = ["DEFAULT_PRICES", "ModelPrice", "PriceSpec", "PriceTable", "price_table", "validate_tokens"]


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

_ALIASES: Mapping[str, str] = {
    # Spellings seen in the product docs and provider SDKs for the same model.
    "claude-haiku-3-5": "claude-3-5-haiku",
    "claude-sonnet-3-7": "claude-3-7-sonnet",
    "claude-opus-4-0": "claude-opus-4",
    "claude-sonnet-4-0": "claude-sonnet-4",
}


class PriceTable:
    """An immutable, dated price table with forgiving model-name lookup.

    Lookup is case-insensitive and understands provider prefixes (``openai/gpt-4o``,
    ``models/gemini-2.5-flash``, Bedrock's ``anthropic.``) and dated or tagged snapshots
    (``gpt-4o-mini-2024-07-18``, ``claude-sonnet-4-20250514``, ``-latest``,
    ``-preview-05-20``) by the longest known name. Resolutions are cached per string.
    Tiered prices (long prompts over 200k tokens) are not modelled: the base tier is used.
    """

    __slots__ = ("_as_of", "_keys", "_prices", "_resolved", "_source")

    def __init__(self, prices: Mapping[str, PriceSpec], *, as_of: datetime.date, source: str = "") -> None:
        if not isinstance(as_of, datetime.date):
            msg = f"PriceTable(as_of={as_of!r}): give the date the prices were checked."
            raise ConfigError(msg)
        table = {str(name).strip().lower(): _to_price(name, spec) for name, spec in prices.items()}
        self._prices: Mapping[str, ModelPrice] = MappingProxyType(table)
        keys = {alias: canon for alias, canon in _ALIASES.items() if canon in table}
        keys.update({name: name for name in table})
        # Longest first, so the first prefix hit is the most specific known model.
        self._keys = tuple(sorted(keys.items(), key=lambda kv: -len(kv[0])))
        self._as_of = as_of
        self._source = source
        self._resolved: dict[str, str | None] = {}

    @property
    def as_of(self) -> datetime.date:
        return self._as_of

    @property
    def source(self) -> str:
        return self._source

    @property
    def prices(self) -> Mapping[str, ModelPrice]:
        """Read-only view of the table, keyed by lower-case model name."""
        return self._prices

    def __len__(self) -> int:
        return len(self._prices)

    def __iter__(self) -> Iterator[str]:
        return iter(self._prices)

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and self.lookup(model) is not None

    def __repr__(self) -> str:
        return f"PriceTable({len(self)} models, as_of={self._as_of.isoformat()})"

    def lookup(self, model: str) -> ModelPrice | None:
        """The price of ``model`` under any usual spelling, or None when unknown."""
        try:
            key = self._resolved[model]
        except KeyError:
            key = self._resolve(model)
            if len(self._resolved) >= _CACHE_LIMIT:
                self._resolved.clear()  # many distinct made-up names: stay bounded
            self._resolved[model] = key
        return None if key is None else self._prices[key]

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
    ) -> float | None:
        """USD for one call, or None when the model is unknown.

        ``input_tokens`` counts ALL input tokens, cache reads and writes included (the
        OpenTelemetry ``gen_ai.usage.input_tokens`` and OpenAI ``prompt_tokens`` meaning);
        the cache counts are subsets of it. Anthropic reports them apart, so pass
        ``input_tokens + cache_read_input_tokens + cache_creation_input_tokens`` there.
        Cost = ((input - cache_read - cache_write) * input_price + cache_read *
        cache_read_price + cache_write * cache_write_price + output * output_price) / 1e6.
        """
        inp, out, read, write = validate_usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        price = self.lookup(model)
        if price is None:
            return None
        read_price = price.input if price.cache_read is None else price.cache_read
        write_price = price.input if price.cache_write is None else price.cache_write
        uncached = inp - read - write
        total = uncached * price.input + read * read_price + write * write_price
        return (total + out * price.output) / 1e6

    def with_overrides(self, prices: Mapping[str, PriceSpec]) -> PriceTable:
        """A new table where the user's prices win over this one's."""
        if not isinstance(prices, Mapping):
            msg = f"with_overrides({prices!r}): give a mapping of model name to price."
            raise TypeError(msg)
        merged: dict[str, PriceSpec] = dict(self._prices)
        merged.update({str(k).strip().lower(): _to_price(k, v) for k, v in prices.items()})
        source = f"{self._source} + user overrides" if self._source else "user overrides"
        return PriceTable(merged, as_of=self._as_of, source=source)


def validate_usage(
    input_tokens: object, output_tokens: object, cache_read: object, cache_write: object
) -> tuple[int, int, int, int]:
    """Checked token counts; cache reads and writes must fit inside ``input_tokens``."""
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


def _p(inp: float, out: float, read: float | None = None, write: float | None = None) -> ModelPrice:
    return ModelPrice(inp, out, read, write)


# List prices, USD per million tokens, standard tier (no batch / flex / priority), prompts
# of at most 200k tokens. Columns: input, output, cache read, cache write.
# OpenAI: cached input is the cache read; there is no cache-write premium.
# Anthropic: 5-minute cache write = 1.25x input, cache read = 0.1x input.
# Google: context-cache read price (storage per hour is not per call, not counted).
_DEFAULT_TABLE: dict[str, ModelPrice] = {
    # -- OpenAI ------------------------------------------------------------------
    "gpt-5": _p(1.25, 10.00, 0.125),
    "gpt-5-mini": _p(0.25, 2.00, 0.025),
    "gpt-5-nano": _p(0.05, 0.40, 0.005),
    "gpt-5-pro": _p(15.00, 120.00),
    "gpt-4.1": _p(2.00, 8.00, 0.50),
    "gpt-4.1-mini": _p(0.40, 1.60, 0.10),
    "gpt-4.1-nano": _p(0.10, 0.40, 0.025),
    "gpt-4o": _p(2.50, 10.00, 1.25),
    "gpt-4o-2024-05-13": _p(5.00, 15.00),  # the first gpt-4o snapshot kept its launch price
    "gpt-4o-mini": _p(0.15, 0.60, 0.075),
    "o1": _p(15.00, 60.00, 7.50),
    "o3": _p(2.00, 8.00, 0.50),
    "o3-pro": _p(20.00, 80.00),
    "o3-mini": _p(1.10, 4.40, 0.55),
    "o4-mini": _p(1.10, 4.40, 0.275),
    # -- Anthropic ---------------------------------------------------------------
    "claude-opus-4-5": _p(5.00, 25.00, 0.50, 6.25),
    "claude-opus-4-1": _p(15.00, 75.00, 1.50, 18.75),
    "claude-opus-4": _p(15.00, 75.00, 1.50, 18.75),
    "claude-sonnet-4-5": _p(3.00, 15.00, 0.30, 3.75),
    "claude-sonnet-4": _p(3.00, 15.00, 0.30, 3.75),
    "claude-3-7-sonnet": _p(3.00, 15.00, 0.30, 3.75),
    "claude-3-5-sonnet": _p(3.00, 15.00, 0.30, 3.75),
    "claude-haiku-4-5": _p(1.00, 5.00, 0.10, 1.25),
    "claude-3-5-haiku": _p(0.80, 4.00, 0.08, 1.00),
    "claude-3-haiku": _p(0.25, 1.25, 0.03, 0.30),
    # -- Google (Gemini API, paid tier, text/image/video input) -------------------
    "gemini-2.5-pro": _p(1.25, 10.00, 0.125),
    "gemini-2.5-flash": _p(0.30, 2.50, 0.03),
    "gemini-2.5-flash-lite": _p(0.10, 0.40, 0.01),
    "gemini-2.0-flash": _p(0.10, 0.40, 0.025),
    "gemini-2.0-flash-lite": _p(0.075, 0.30),
}

DEFAULT_PRICES = PriceTable(
    _DEFAULT_TABLE,
    # The author's knowledge of list prices (late 2025), cross-checked against the
    # pydantic/genai-prices data set; re-check the pages below before relying on them.
    as_of=datetime.date(2025, 12, 1),
    source=(
        "https://openai.com/api/pricing/ ; https://www.anthropic.com/pricing#api ; "
        "https://ai.google.dev/gemini-api/docs/pricing"
    ),
)
"""The built-in prices. Extend or correct them with ``DEFAULT_PRICES.with_overrides``."""


def price_table(prices: PriceTable | Mapping[str, PriceSpec] | None) -> PriceTable:
    """The prices a component works with: ``DEFAULT_PRICES``, a table given whole, or a
    mapping of model to price that overrides the defaults (``{"my-model": {"input": 1.0,
    "output": 2.0}}``, USD per 1M tokens). Every component taking ``prices=`` uses this."""
    if prices is None:
        return DEFAULT_PRICES
    if isinstance(prices, PriceTable):
        return prices
    return DEFAULT_PRICES.with_overrides(prices)
