"""Pricing per call: genai-prices (cached per provider, model and day) against the old
hand-kept table, on the path every replayed call takes, in one run, interleaved.

Run: .venv/bin/python bench/bench_pricing.py

* ``PriceTable.cost``: one call's USD from tokens (cache read/write included). Old: the
  hand-kept 2025-12-01 table as it was (a copy below, kept here only for this comparison),
  through the same user-table lookup code. New: ``DEFAULT_PRICES`` (genai-prices), with the
  call's provider and timestamp; every lookup hits the cache after the first per
  (provider, model, day).
* ``CostTracker.record_call``: the whole accounting of one replayed cassette entry (what
  ``Cassette.account`` calls), old table vs genai-prices.
* genai-prices' own ``calc_price`` per call, uncached, for scale.
* cold start: a fresh interpreter importing pyagent_trace and pricing one call (genai-prices
  is imported then, not before), against the same with the old table.

Rounds alternate old and new (so machine noise hits both alike); figures are medians of
per-round per-call times, and the median of the per-round ratios.
"""

from __future__ import annotations

import datetime
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from pyagent_trace._recording import RecordEntry
from pyagent_trace.cost import CostTracker
from pyagent_trace.pricing import DEFAULT_PRICES, ModelPrice, PriceTable

ROUNDS = 11
CALLS = 20_000


def _p(inp: float, out: float, read: float | None = None, write: float | None = None) -> ModelPrice:
    return ModelPrice(inp, out, read, write)


# The hand-kept table pricing.py had until genai-prices replaced it (as of 2025-12-01).
OLD_TABLE = PriceTable(
    {
        "gpt-5": _p(1.25, 10.00, 0.125), "gpt-5-mini": _p(0.25, 2.00, 0.025), "gpt-5-nano": _p(0.05, 0.40, 0.005),
        "gpt-5-pro": _p(15.00, 120.00), "gpt-4.1": _p(2.00, 8.00, 0.50), "gpt-4.1-mini": _p(0.40, 1.60, 0.10),
        "gpt-4.1-nano": _p(0.10, 0.40, 0.025), "gpt-4o": _p(2.50, 10.00, 1.25), "gpt-4o-2024-05-13": _p(5.00, 15.00),
        "gpt-4o-mini": _p(0.15, 0.60, 0.075), "o1": _p(15.00, 60.00, 7.50), "o3": _p(2.00, 8.00, 0.50),
        "o3-pro": _p(20.00, 80.00), "o3-mini": _p(1.10, 4.40, 0.55), "o4-mini": _p(1.10, 4.40, 0.275),
        "claude-opus-4-5": _p(5.00, 25.00, 0.50, 6.25), "claude-opus-4-1": _p(15.00, 75.00, 1.50, 18.75),
        "claude-opus-4": _p(15.00, 75.00, 1.50, 18.75), "claude-sonnet-4-5": _p(3.00, 15.00, 0.30, 3.75),
        "claude-sonnet-4": _p(3.00, 15.00, 0.30, 3.75), "claude-3-7-sonnet": _p(3.00, 15.00, 0.30, 3.75),
        "claude-3-5-sonnet": _p(3.00, 15.00, 0.30, 3.75), "claude-haiku-4-5": _p(1.00, 5.00, 0.10, 1.25),
        "claude-3-5-haiku": _p(0.80, 4.00, 0.08, 1.00), "claude-3-haiku": _p(0.25, 1.25, 0.03, 0.30),
        "gemini-2.5-pro": _p(1.25, 10.00, 0.125), "gemini-2.5-flash": _p(0.30, 2.50, 0.03),
        "gemini-2.5-flash-lite": _p(0.10, 0.40, 0.01), "gemini-2.0-flash": _p(0.10, 0.40, 0.025),
        "gemini-2.0-flash-lite": _p(0.075, 0.30),
    },
    as_of=datetime.date(2025, 12, 1),
)  # fmt: skip

DAY0 = datetime.datetime(2026, 11, 2, 9, tzinfo=datetime.UTC).timestamp()
# A replayed cassette: three providers, cache tokens, recorded over three days.
CALLS_MIX = [
    ("gpt-4o-mini-2024-07-18", "openai", 2_087, 124, 2_048, 0),
    ("claude-sonnet-4-20250514", "anthropic", 8_855, 193, 8_845, 6),
    ("gemini-2.5-flash", "gemini", 345, 37, 230, 0),
    ("gpt-4o", "openai", 1_200, 480, 0, 0),
]
WORK = [(*CALLS_MIX[i % len(CALLS_MIX)], DAY0 + (i % 3) * 86_400 + i) for i in range(CALLS)]
ENTRIES = [
    RecordEntry("http_interaction", agent_name="a", model=m, timestamp=ts, input_tokens=i, output_tokens=o,
                tokens=i + o, metadata={"provider": p, "cache_read_tokens": r, "cache_write_tokens": w})
    for m, p, i, o, r, w, ts in WORK
]  # fmt: skip


def table_cost(table: PriceTable) -> Callable[[], None]:
    def run() -> None:
        cost = table.cost
        for model, provider, inp, out, read, write, ts in WORK:
            cost(model, inp, out, read, write, provider=provider, at=ts)

    return run


def tracker_record(table: PriceTable) -> Callable[[], None]:
    def run() -> None:
        tracker = CostTracker(prices=table)
        for entry in ENTRIES:
            tracker.record_call(entry)

    return run


def genai_uncached() -> Callable[[], None]:
    import genai_prices

    def run() -> None:
        for model, provider, inp, out, read, write, ts in WORK[:200]:  # ~100 µs each: a sample
            usage = genai_prices.Usage(
                input_tokens=inp, output_tokens=out, cache_read_tokens=read, cache_write_tokens=write
            )
            when = datetime.datetime.fromtimestamp(ts, datetime.UTC)
            genai_prices.calc_price(usage, model, provider_id="google" if provider == "gemini" else provider,
                                    genai_request_timestamp=when)  # fmt: skip

    return run


def per_call_us(func: Callable[[], None], calls: int) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) / calls * 1e6


def interleaved(old: Callable[[], None], new: Callable[[], None], calls: int) -> tuple[float, float, float]:
    old(), new()  # warm: the first genai-prices lookups (import, data) are not per-call costs
    olds, news = [], []
    for _ in range(ROUNDS):
        olds.append(per_call_us(old, calls))
        news.append(per_call_us(new, calls))
    ratio = statistics.median(n / o for n, o in zip(news, olds, strict=True))
    return statistics.median(olds), statistics.median(news), ratio


COLD = """
import time
start = time.perf_counter()
from pyagent_trace.pricing import DEFAULT_PRICES, PriceTable, ModelPrice
table = {table}
table.cost("gpt-4o-mini", 1000, 100, 200, provider="openai")
print((time.perf_counter() - start) * 1000)
"""


def cold_ms(table: str, **env: str) -> float:
    code = COLD.format(table=table)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})  # fmt: skip
    return float(out.stdout)


def main() -> None:
    print(f"{CALLS:,} calls per round, {ROUNDS} interleaved rounds; per call, median")
    rows = [
        ("PriceTable.cost", *interleaved(table_cost(OLD_TABLE), table_cost(DEFAULT_PRICES), CALLS)),
        ("CostTracker.record_call", *interleaved(tracker_record(OLD_TABLE), tracker_record(DEFAULT_PRICES), CALLS)),
    ]
    for name, old, new, ratio in rows:
        print(f"{name:<26} old table {old:6.2f} µs   genai-prices {new:6.2f} µs   ratio {ratio:4.2f}")
    uncached = statistics.median(per_call_us(genai_uncached(), 200) for _ in range(5))
    print(f"{'genai-prices calc_price':<26} uncached {uncached:7.1f} µs (what the cache saves)")
    old_cold, new_cold, bare_cold = [], [], []
    for _ in range(5):
        old_cold.append(cold_ms('PriceTable({"gpt-4o-mini": ModelPrice(0.15, 0.6, 0.075)})'))
        new_cold.append(cold_ms("DEFAULT_PRICES"))
        bare_cold.append(cold_ms("DEFAULT_PRICES", PYDANTIC_DISABLE_PLUGINS="__all__"))
    print(
        f"{'cold: import + 1st price':<26} old table {statistics.median(old_cold):6.0f} ms   "
        f"genai-prices {statistics.median(new_cold):6.0f} ms (once per process, on the first call priced)"
    )
    print(f"{'':<26} genai-prices without pydantic plugins (logfire's) {statistics.median(bare_cold):6.0f} ms")


if __name__ == "__main__":
    main()
