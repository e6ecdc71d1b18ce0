"""CostTracker: USD and tokens per pattern, agent and model, with budgets for tests.

An unknown model is never silently $0: its calls are counted as *unpriced*, warned about
once, and named in every summary and budget failure.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyagent_trace._usd import usd_exact
from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.exceptions import BudgetExceededError, ConfigError, PyAgentTraceWarning
from pyagent_trace.pricing import PriceTable, call_cost, price_table, validate_usage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from pyagent_trace._recording import RecordEntry
    from pyagent_trace.pricing import PriceSpec

__all__ = ["CostEntry", "CostSummary", "CostTracker"]

COST_RECORD_EVENT = "cost_record"
_DECIMALS = 12  # sums of float prices print cleanly (0.00094 + 0.00098 + 0.0084 -> 0.01032)


@dataclass(frozen=True, slots=True)
class CostEntry:
    """One LLM call. ``cost_usd`` is 0.0 when ``priced`` is False: unknown, not free."""

    pattern: str
    agent: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    priced: bool
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    tokens_estimated: bool = False
    timestamp: float = field(default_factory=time.time)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _price_hint(model: str) -> str:
    return f'CostTracker(prices={{"{model}": {{"input": ..., "output": ...}}}}) (USD per 1M tokens)'


@dataclass(frozen=True, slots=True)
class CostSummary:
    """Totals and breakdowns as data; :meth:`lines` renders them for people."""

    total_usd: float
    input_tokens: int
    output_tokens: int
    calls: int
    unpriced_calls: int
    unpriced_models: tuple[str, ...]
    by_agent: dict[str, float]
    by_model: dict[str, float]
    by_pattern: dict[str, float]
    unpriced_agents: tuple[str, ...] = ()

    def unpriced_line(self) -> str:
        """What is missing and how to fix it; "" when every call was priced."""
        if not self.unpriced_calls:
            return ""
        models = _plural(len(self.unpriced_models), "unpriced model")
        return (
            f"{_plural(self.unpriced_calls, 'call')} to {models} "
            f"({', '.join(self.unpriced_models)}): their cost is unknown, not $0 — "
            f"add a price with {_price_hint(self.unpriced_models[0])}."
        )

    def lines(self) -> list[str]:
        tokens = f"{self.input_tokens:,} input + {self.output_tokens:,} output tokens"
        out = [f"LLM cost: {usd_exact(self.total_usd)} over {_plural(self.calls, 'call')} ({tokens})"]
        groups = (
            ("agent", self.by_agent, self.unpriced_agents),
            ("model", self.by_model, self.unpriced_models),
        )
        for title, table, unpriced in groups:
            width = max((len(name) for name in table), default=0)
            out.append(f"  by {title}:" if table else "")
            for name, usd in table.items():
                mark = " + unpriced calls" if name in unpriced else ""
                out.append(f"    {name or '-':<{width}}  {usd_exact(usd)}{mark}")
        out.append(self.unpriced_line())
        return [line for line in out if line]


def _check_amount(name: str, value: object) -> float | None:
    """None, or a finite non-negative number (a cost or a budget limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name}={value!r}: give a number, or None."
        raise TypeError(msg)
    if not math.isfinite(value) or value < 0:
        msg = f"{name}={value!r}: must be a finite, non-negative number."
        raise ConfigError(msg)
    return float(value)


def _count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


def _pick(name: str, value: str | None, alias: str, alias_value: str | None) -> str:
    if value is not None and alias_value is not None and value != alias_value:
        msg = f"{name}={value!r} and {alias}={alias_value!r} disagree: give only one of them."
        raise ConfigError(msg)
    chosen = value if value is not None else alias_value
    if chosen is not None and not isinstance(chosen, str):
        msg = f"{name}={chosen!r}: must be a str."
        raise TypeError(msg)
    return chosen or ""


def _sum_by(entries: Iterable[CostEntry], key: Callable[[CostEntry], str]) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for entry in entries:
        groups.setdefault(key(entry), []).append(entry.cost_usd)
    return {name: round(math.fsum(costs), _DECIMALS) for name, costs in groups.items()}


def _tokens_by(entries: Iterable[CostEntry], key: Callable[[CostEntry], str]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in entries:
        totals[key(entry)] = totals.get(key(entry), 0) + entry.tokens
    return totals


class CostTracker:
    """Aggregates LLM spend; thread-safe, so agents running in threads may share one.

    Args:
        event_bus: when given, every record emits a ``cost_record`` :class:`TraceEvent`.
        prices: a :class:`PriceTable`, or a mapping of model to price that overrides
            ``DEFAULT_PRICES`` (e.g. ``{"my-model": {"input": 1.0, "output": 2.0}}``).
    """

    def __init__(
        self,
        event_bus: TraceEventBus | None = None,
        *,
        prices: PriceTable | Mapping[str, PriceSpec] | None = None,
    ) -> None:
        self.prices: PriceTable = price_table(prices)
        self.event_bus = event_bus
        self._lock = threading.Lock()
        self._entries: list[CostEntry] = []
        self._warned_models: set[str] = set()

    def record(
        self,
        pattern: str | None = None,
        agent: str | None = None,
        model: str = "unknown",
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost_usd: float | None = None,
        *,
        pattern_type: str | None = None,
        agent_name: str | None = None,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        tokens_estimated: bool = False,
        timestamp: float | None = None,
        provider: str | None = None,
        priced_at: float | None = None,
    ) -> CostEntry:
        """Record one call. ``cost_usd`` None or 0.0 means "compute it from the prices" in
        force when the call was made (``priced_at``, else ``timestamp``, Unix seconds) for
        ``provider`` ("openai", "anthropic", "gemini", ...).

        0.0 counts as unknown because pyagent-patterns' Agent always passes 0.0.
        ``input_tokens`` includes cache reads and writes (see :meth:`PriceTable.cost`).
        """
        pattern = _pick("pattern", pattern, "pattern_type", pattern_type)
        agent = _pick("agent", agent, "agent_name", agent_name)
        if not isinstance(model, str):
            msg = f"model={model!r}: a model name must be a str."
            raise TypeError(msg)
        inp, out, read, write = validate_usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        given = _check_amount("cost_usd", cost_usd)
        stamp = time.time() if timestamp is None else float(timestamp)
        priced = True
        if not given:  # None or 0.0
            at = stamp if priced_at is None else float(priced_at)
            given = self.prices.cost(model, inp, out, read, write, provider=provider, at=at)
            priced = given is not None
        estimated = bool(tokens_estimated)
        entry = CostEntry(pattern, agent, model, inp, out, given or 0.0, priced, read, write, estimated, stamp)
        with self._lock:
            self._entries.append(entry)
            first_unpriced = not priced and model not in self._warned_models
            if first_unpriced:
                self._warned_models.add(model)
        if self.event_bus is not None and self.event_bus.subscriber_count:  # no event built for nobody
            self.event_bus.emit(_to_event(entry))
        if first_unpriced:  # last: with warnings as errors the entry is still kept
            msg = (
                f"No price for model {model!r} in {self.prices.source or 'the price table'}: its calls "
                f"are counted as unpriced (cost unknown, not $0). Add a price with {_price_hint(model)}."
            )
            warnings.warn(msg, PyAgentTraceWarning, stacklevel=2)
        return entry

    def record_call(self, entry: RecordEntry) -> CostEntry:
        """Record one call of a recording (an ``llm_call`` or a provider ``http_interaction``
        entry), with its cache tokens; the one way recorded calls reach a tracker.

        The cost is priced here, from the call's tokens, provider and own timestamp, with this
        tracker's prices: a replayed call costs what it cost when it was recorded, and the
        user's prices win. The ``cost_usd`` a cassette line carries is a note for reviewers
        of the file (what it was priced at when written), not read back.
        """
        meta = entry.metadata
        model = entry.model or "unknown"
        provider = meta.get("provider") or None
        at = entry.timestamp or None  # 0.0: a hand-made entry without a time, priced now
        usage = validate_usage(
            entry.input_tokens,
            entry.output_tokens,
            int(meta.get("cache_read_tokens") or 0),
            int(meta.get("cache_write_tokens") or 0),
        )
        cost = call_cost(self.prices, (meta.get("response_model"), model), usage, provider=provider, at=at)
        return self.record(
            pattern=entry.pattern_type,
            agent=entry.agent_name,
            model=model,
            input_tokens=usage[0],
            output_tokens=usage[1],
            cost_usd=cost,
            cache_read_tokens=usage[2],
            cache_write_tokens=usage[3],
            tokens_estimated=entry.tokens_estimated,
            provider=provider,
            priced_at=at,
        )

    # -- summaries -------------------------------------------------------------------------
    @property
    def entries(self) -> tuple[CostEntry, ...]:
        with self._lock:
            return tuple(self._entries)

    @property
    def total_cost(self) -> float:
        return round(math.fsum(e.cost_usd for e in self.entries), _DECIMALS)

    @property
    def total_input_tokens(self) -> int:
        return sum(e.input_tokens for e in self.entries)

    @property
    def total_output_tokens(self) -> int:
        return sum(e.output_tokens for e in self.entries)

    @property
    def total_tokens(self) -> int:
        return sum(e.tokens for e in self.entries)

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def unpriced_calls(self) -> int:
        return sum(not e.priced for e in self.entries)

    def by_pattern(self) -> dict[str, float]:
        return _sum_by(self.entries, lambda e: e.pattern)

    def by_model(self) -> dict[str, float]:
        return _sum_by(self.entries, lambda e: e.model)

    def by_agent(self) -> dict[str, float]:
        return _sum_by(self.entries, lambda e: e.agent)

    def tokens_by_agent(self) -> dict[str, int]:
        return _tokens_by(self.entries, lambda e: e.agent)

    def tokens_by_model(self) -> dict[str, int]:
        return _tokens_by(self.entries, lambda e: e.model)

    def summary(self) -> CostSummary:
        entries = self.entries  # one snapshot, so every figure agrees
        unpriced = [e.model for e in entries if not e.priced]
        return CostSummary(
            total_usd=round(math.fsum(e.cost_usd for e in entries), _DECIMALS),
            input_tokens=sum(e.input_tokens for e in entries),
            output_tokens=sum(e.output_tokens for e in entries),
            calls=len(entries),
            unpriced_calls=len(unpriced),
            unpriced_models=tuple(dict.fromkeys(unpriced)),
            by_agent=_sum_by(entries, lambda e: e.agent),
            by_model=_sum_by(entries, lambda e: e.model),
            by_pattern=_sum_by(entries, lambda e: e.pattern),
            unpriced_agents=tuple(dict.fromkeys(e.agent for e in entries if not e.priced)),
        )

    # -- budgets and housekeeping ----------------------------------------------------------
    def assert_under(self, usd: float | None = None, tokens: int | None = None, calls: int | None = None) -> None:
        """Fail with the breakdown when spend is over a limit (priced spend for ``usd``)."""
        __tracebackhide__ = True
        given = {"usd": usd, "tokens": tokens, "calls": calls}
        limits = {name: _check_amount(name, limit) for name, limit in given.items()}
        if all(limit is None for limit in limits.values()):
            msg = "assert_under() needs at least one limit: usd=, tokens= or calls=."
            raise ConfigError(msg)
        s = self.summary()
        spent = {"usd": s.total_usd, "tokens": s.input_tokens + s.output_tokens, "calls": s.calls}
        shown = {"usd": usd_exact, "tokens": _count, "calls": _count}
        over = [
            f"{name}: spent {shown[name](spent[name])} > limit {shown[name](limit)}"
            + (" (priced calls only)" if name == "usd" and s.unpriced_calls else "")
            for name, limit in limits.items()
            if limit is not None and spent[name] > limit
        ]
        if over:
            msg = "\n".join(["Budget exceeded:", *(f"  {o}" for o in over), *s.lines()])
            raise BudgetExceededError(msg)

    def reset(self) -> None:
        """Forget every entry, and which unpriced models were already warned about."""
        with self._lock:
            self._entries.clear()
            self._warned_models.clear()

    def __repr__(self) -> str:
        return f"CostTracker(calls={self.call_count}, total_cost={self.total_cost})"


_PAYLOAD_FIELDS = (
    "model", "input_tokens", "output_tokens", "tokens", "cost_usd", "priced",
    "tokens_estimated", "cache_read_tokens", "cache_write_tokens",
)  # fmt: skip


def _to_event(entry: CostEntry) -> TraceEvent:
    payload = {name: getattr(entry, name) for name in _PAYLOAD_FIELDS}
    return TraceEvent(entry.timestamp, COST_RECORD_EVENT, entry.agent, entry.pattern, payload)
