"""CostTracker: recording, pricing, unpriced models, summaries, budgets, events, threads."""

from __future__ import annotations

import dataclasses
import math
import threading
import warnings
from typing import TYPE_CHECKING

import pytest
from pyagent_patterns.base import Agent, Message, MockLLM

from pyagent_trace.cost import CostEntry, CostSummary, CostTracker
from pyagent_trace.events import TraceEvent, TraceEventBus
from pyagent_trace.exceptions import BudgetExceededError, ConfigError, PyAgentTraceWarning
from pyagent_trace.pricing import DEFAULT_PRICES, ModelPrice, PriceTable

if TYPE_CHECKING:
    from collections.abc import Callable


def _unpriced() -> pytest.WarningsRecorder:
    """Expect the unpriced-model warning."""
    return pytest.warns(PyAgentTraceWarning, match=r"No price for model")


def _docs_tracker() -> CostTracker:
    """The product docs' CostTracker example, verbatim."""
    tracker = CostTracker()
    tracker.record(
        pattern="debate",
        agent="bull",
        model="gemini-2.5-flash",
        input_tokens=450,
        output_tokens=380,
        cost_usd=0.00094,
    )
    tracker.record("debate", "bear", "gemini-2.5-flash", 450, 410, 0.00098)
    tracker.record("debate", "judge", "claude-sonnet-4-20250514", 1200, 480, 0.00840)
    return tracker


# -- the product docs -----------------------------------------------------------------------
def test_docs_example_by_pattern_prints_clean_numbers():
    assert _docs_tracker().by_pattern() == {"debate": 0.01032}
    assert str(_docs_tracker().by_pattern()) == "{'debate': 0.01032}"


def test_docs_example_by_model_and_by_agent_in_first_seen_order():
    tracker = _docs_tracker()
    assert tracker.by_model() == {"gemini-2.5-flash": 0.00192, "claude-sonnet-4-20250514": 0.0084}
    assert list(tracker.by_agent().items()) == [
        ("bull", 0.00094),
        ("bear", 0.00098),
        ("judge", 0.0084),
    ]


def test_docs_example_totals():
    tracker = _docs_tracker()
    assert tracker.total_cost == 0.01032
    assert f"${tracker.total_cost:.4f}" == "$0.0103"
    assert f"${tracker.total_cost * 500:.2f}/day" == "$5.16/day"
    assert (tracker.total_input_tokens, tracker.total_output_tokens) == (2100, 1270)
    assert (tracker.total_tokens, tracker.call_count, tracker.unpriced_calls) == (3370, 3, 0)


def test_tokens_by_agent_and_by_model_are_int_totals():
    tracker = _docs_tracker()
    assert tracker.tokens_by_agent() == {"bull": 830, "bear": 860, "judge": 1680}
    assert tracker.tokens_by_model() == {"gemini-2.5-flash": 1690, "claude-sonnet-4-20250514": 1680}


# -- CostEntry ------------------------------------------------------------------------------
def test_record_returns_a_frozen_entry_with_tokens_and_given_cost():
    entry = CostTracker().record("p", "a", "gpt-4o", 10, 5, 0.5, timestamp=12.5)
    assert entry == CostEntry("p", "a", "gpt-4o", 10, 5, 0.5, True, timestamp=12.5)
    assert entry.tokens == 15
    assert not hasattr(entry, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.cost_usd = 0.0  # type: ignore[misc]


def test_record_stamps_the_current_time_when_no_timestamp_is_given():
    entry = CostTracker().record("p", "a", "gpt-4o", 1, 1)
    assert entry.timestamp > 1_600_000_000


# -- pricing on record ----------------------------------------------------------------------
def test_record_without_cost_computes_it_from_the_price_table():
    entry = CostTracker().record("p", "a", "gpt-4o-mini", 1_000_000, 1_000_000)
    assert (entry.cost_usd, entry.priced) == (pytest.approx(0.75), True)


def test_record_with_zero_cost_means_unknown_and_computes_it():
    entry = CostTracker().record("p", "a", "openai/gpt-4o-mini", 1_000_000, 0, cost_usd=0.0)
    assert entry.cost_usd == pytest.approx(0.15)


def test_record_cache_tokens_use_cache_prices():
    tracker = CostTracker()
    entry = tracker.record("p", "a", "claude-sonnet-4", 7_100, 300, cache_read_tokens=5_000, cache_write_tokens=2_000)
    assert entry.cost_usd == pytest.approx(0.0138)
    assert (entry.cache_read_tokens, entry.cache_write_tokens) == (5_000, 2_000)


def test_record_keeps_a_positive_given_cost_even_for_unknown_models():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entry = CostTracker().record("p", "a", "my-model", 1, 1, cost_usd=0.25)
    assert (entry.cost_usd, entry.priced) == (0.25, True)


def test_record_unknown_model_is_unpriced_not_silently_free():
    tracker = CostTracker()
    with _unpriced():
        entry = tracker.record("p", "a", "my-model", 100, 100)
    assert (entry.cost_usd, entry.priced) == (0.0, False)
    assert tracker.unpriced_calls == 1


def test_unpriced_warning_names_the_model_and_how_to_add_a_price():
    with pytest.warns(PyAgentTraceWarning) as record:
        CostTracker().record("p", "a", "my-model", 1, 1)
    message = str(record[0].message)
    assert "'my-model'" in message
    assert 'CostTracker(prices={"my-model": {"input": ..., "output": ...}})' in message


def _record_models(tracker: CostTracker, models: list[str]) -> None:
    for model in models:
        tracker.record("p", "a", model, 1, 1)


def test_unpriced_warning_is_issued_once_per_model_per_tracker():
    tracker = CostTracker()
    with pytest.warns(PyAgentTraceWarning) as record:
        _record_models(tracker, ["m1", "m1", "m2", "m1", "m2"])
    assert [str(w.message).split("'")[1] for w in record] == ["m1", "m2"]
    with _unpriced():
        CostTracker().record("p", "a", "m1", 1, 1)  # a new tracker warns again


def test_unpriced_entry_is_kept_when_warnings_are_errors():
    tracker = CostTracker()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PyAgentTraceWarning):
            tracker.record("p", "a", "my-model", 1, 1)
    assert tracker.call_count == 1


def test_prices_mapping_overrides_the_defaults():
    tracker = CostTracker(prices={"my-model": {"input": 1.0, "output": 2.0}})
    entry = tracker.record("p", "a", "my-model", 1_000_000, 1_000_000)
    assert (entry.cost_usd, entry.priced) == (pytest.approx(3.0), True)
    assert tracker.record("p", "a", "gpt-4o-mini", 1_000_000, 0).cost_usd == pytest.approx(0.15)


def test_prices_table_replaces_the_defaults():
    table = PriceTable({"m": ModelPrice(1.0, 1.0)}, as_of=DEFAULT_PRICES.as_of)
    tracker = CostTracker(prices=table)
    assert tracker.prices is table
    with _unpriced():
        assert not tracker.record("p", "a", "gpt-4o", 1, 1).priced


def test_default_tracker_uses_default_prices():
    assert CostTracker().prices is DEFAULT_PRICES


# -- call signatures ------------------------------------------------------------------------
def test_record_accepts_pattern_type_and_agent_name_aliases():
    entry = CostTracker().record(pattern_type="agent", agent_name="x", model="gpt-4o", cost_usd=1)
    assert (entry.pattern, entry.agent) == ("agent", "x")


def test_record_accepts_the_same_value_under_both_names():
    entry = CostTracker().record("p", "a", "gpt-4o", pattern_type="p", agent_name="a")
    assert (entry.pattern, entry.agent) == ("p", "a")


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"pattern": "p", "pattern_type": "q"}, r"pattern='p' and pattern_type='q'"),
        ({"agent": "a", "agent_name": "b"}, r"agent='a' and agent_name='b'"),
    ],
)
def test_record_rejects_disagreeing_aliases_naming_both(kwargs, names):
    with pytest.raises(ConfigError, match=names):
        CostTracker().record(model="gpt-4o", **kwargs)


def test_record_without_pattern_or_agent_uses_empty_names():
    entry = CostTracker().record(model="gpt-4o", input_tokens=1)
    assert (entry.pattern, entry.agent) == ("", "")


async def test_pyagent_patterns_agent_with_unknown_model_records_an_unpriced_call():
    tracker = CostTracker()
    agent = Agent("analyst", MockLLM(["a reply of some length"])).set_cost_tracker(tracker)
    with _unpriced():
        await agent.run([Message.user("hi")])
    (entry,) = tracker.entries
    assert (entry.pattern, entry.agent, entry.model) == ("agent", "analyst", "unknown")
    assert (entry.priced, entry.cost_usd) == (False, 0.0)
    assert entry.output_tokens == len("a reply of some length") // 4


async def test_pyagent_patterns_agent_with_known_model_records_a_priced_call():
    llm = MockLLM(["x" * 4000])
    llm._model = "gpt-4o-mini"  # type: ignore[attr-defined]
    tracker = CostTracker()
    await Agent("writer", llm).set_cost_tracker(tracker).run([Message.user("hi")])
    (entry,) = tracker.entries
    assert (entry.model, entry.priced, entry.output_tokens) == ("gpt-4o-mini", True, 1000)
    assert entry.cost_usd == pytest.approx(1000 * 0.60 / 1e6)


# -- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize("arg", ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"])
def test_record_rejects_negative_tokens_naming_argument_and_value(arg):
    with pytest.raises(ConfigError, match=rf"{arg}=-1"):
        CostTracker().record("p", "a", "gpt-4o", **{"input_tokens": 10, arg: -1})


@pytest.mark.parametrize(("bad", "error"), [("450", TypeError), (True, TypeError), (4.5, ConfigError)])
def test_record_rejects_non_int_tokens_naming_the_argument(bad, error):
    with pytest.raises(error, match=r"output_tokens="):
        CostTracker().record("p", "a", "gpt-4o", 10, bad)


def test_record_accepts_whole_float_tokens_as_ints():
    entry = CostTracker().record("p", "a", "gpt-4o", 450.0, 380.0, 0.1)
    assert (entry.input_tokens, type(entry.input_tokens)) == (450, int)


@pytest.mark.parametrize("bad", [-0.01, math.nan, math.inf, -math.inf])
def test_record_rejects_negative_nan_or_infinite_cost(bad):
    with pytest.raises(ConfigError, match=r"cost_usd=.*finite, non-negative"):
        CostTracker().record("p", "a", "gpt-4o", 1, 1, bad)


@pytest.mark.parametrize("bad", ["0.1", True])
def test_record_rejects_a_cost_that_is_not_a_number(bad):
    with pytest.raises(TypeError, match=r"cost_usd="):
        CostTracker().record("p", "a", "gpt-4o", 1, 1, bad)


def test_record_rejects_cache_tokens_beyond_input_tokens():
    with pytest.raises(ConfigError, match=r"cache_read_tokens=20 .* exceed input_tokens=10"):
        CostTracker().record("p", "a", "gpt-4o", 10, 1, 0.1, cache_read_tokens=20)


@pytest.mark.parametrize("kwargs", [{"model": 3}, {"pattern": 3}, {"agent_name": 3}])
def test_record_rejects_names_that_are_not_strings(kwargs):
    with pytest.raises(TypeError, match=r"=3"):
        CostTracker().record(**{"model": "gpt-4o", **kwargs})


def test_invalid_record_leaves_the_tracker_unchanged():
    tracker = CostTracker()
    with pytest.raises(ConfigError):
        tracker.record("p", "a", "gpt-4o", -1, 1)
    assert tracker.call_count == 0


# -- events ---------------------------------------------------------------------------------
def test_record_emits_a_cost_record_event_on_the_bus():
    bus = TraceEventBus(raise_errors=True)
    seen: list[TraceEvent] = []
    bus.subscribe(seen.append)
    tracker = CostTracker(bus)
    tracker.record("debate", "bull", "gpt-4o", 10, 5, cache_read_tokens=4, timestamp=7.0)
    assert seen == [
        TraceEvent(
            7.0,
            "cost_record",
            agent_name="bull",
            pattern_type="debate",
            payload={
                "model": "gpt-4o",
                "input_tokens": 10,
                "output_tokens": 5,
                "tokens": 15,
                "cost_usd": pytest.approx((6 * 2.5 + 4 * 1.25 + 5 * 10) / 1e6),
                "priced": True,
                "tokens_estimated": False,
                "cache_read_tokens": 4,
                "cache_write_tokens": 0,
            },
        )
    ]


def test_event_flags_unpriced_and_estimated_calls():
    bus = TraceEventBus(raise_errors=True)
    seen: list[TraceEvent] = []
    bus.subscribe(seen.append)
    with _unpriced():
        CostTracker(event_bus=bus).record("p", "a", "my-model", 1, 1, tokens_estimated=True)
    assert (seen[0].payload["priced"], seen[0].payload["tokens_estimated"]) == (False, True)


# -- summary --------------------------------------------------------------------------------
def test_summary_collects_totals_and_breakdowns():
    tracker = _docs_tracker()
    with _unpriced():
        tracker.record("solo", "bull", "my-model", 10, 10)
    summary = tracker.summary()
    assert summary == CostSummary(
        total_usd=0.01032,
        input_tokens=2110,
        output_tokens=1280,
        calls=4,
        unpriced_calls=1,
        unpriced_models=("my-model",),
        by_agent={"bull": 0.00094, "bear": 0.00098, "judge": 0.0084},
        by_model={"gemini-2.5-flash": 0.00192, "claude-sonnet-4-20250514": 0.0084, "my-model": 0.0},
        by_pattern={"debate": 0.01032, "solo": 0.0},
        unpriced_agents=("bull",),
    )


def test_summary_lines_are_a_readable_breakdown():
    lines = _docs_tracker().summary().lines()
    assert lines[0] == "LLM cost: $0.01032 over 3 calls (2,100 input + 1,270 output tokens)"
    assert "  by agent:" in lines
    assert "    judge  $0.0084" in lines
    assert "    gemini-2.5-flash          $0.00192" in lines
    assert not any("unpriced" in line for line in lines)


def test_summary_lines_say_how_many_calls_were_unpriced_and_how_to_fix_it():
    tracker = CostTracker()
    with _unpriced():
        for _ in range(3):
            tracker.record("p", "a", "my-model", 1, 1)
    lines = tracker.summary().lines()
    assert lines[-1].startswith(
        "3 calls to 1 unpriced model (my-model): their cost is unknown, not $0 — add a price with "
        'CostTracker(prices={"my-model": '
    )
    assert "    my-model  $0.00 + unpriced calls" in lines


def test_summary_of_an_empty_tracker():
    summary = CostTracker().summary()
    assert (summary.total_usd, summary.calls, summary.unpriced_line()) == (0.0, 0, "")
    assert summary.lines() == ["LLM cost: $0.00 over 0 calls (0 input + 0 output tokens)"]


# -- budgets --------------------------------------------------------------------------------
def test_assert_under_passes_within_every_limit():
    _docs_tracker().assert_under(usd=0.01032, tokens=3370, calls=3)


@pytest.mark.parametrize(
    ("limits", "line"),
    [
        ({"usd": 0.01}, "usd: spent $0.01032 > limit $0.01"),
        ({"tokens": 3000}, "tokens: spent 3,370 > limit 3,000"),
        ({"calls": 2}, "calls: spent 3 > limit 2"),
    ],
)
def test_assert_under_fails_naming_the_limit_spent_and_breakdown(limits, line):
    with pytest.raises(BudgetExceededError) as info:
        _docs_tracker().assert_under(**limits)
    message = str(info.value)
    assert message.startswith(f"Budget exceeded:\n  {line}\n")
    assert "  by agent:" in message
    assert "  by model:" in message


def test_assert_under_lists_every_exceeded_limit():
    with pytest.raises(BudgetExceededError, match=r"usd: .*\n  calls: "):
        _docs_tracker().assert_under(usd=0.001, tokens=10**6, calls=1)


def test_assert_under_counts_only_priced_spend_and_mentions_unpriced_calls():
    tracker = _docs_tracker()
    with _unpriced():
        tracker.record("p", "a", "my-model", 1, 1)
    tracker.assert_under(usd=0.02)  # unpriced calls alone never fail a usd budget
    with pytest.raises(BudgetExceededError) as info:
        tracker.assert_under(usd=0.01)
    assert "(priced calls only)" in str(info.value)
    assert "1 call to 1 unpriced model (my-model)" in str(info.value)


def test_assert_under_hides_itself_from_pytest_tracebacks():
    assert "__tracebackhide__" in CostTracker.assert_under.__code__.co_varnames


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, ConfigError),
        ({"usd": -1}, ConfigError),
        ({"calls": math.nan}, ConfigError),
        ({"tokens": "10"}, TypeError),
    ],
)
def test_assert_under_rejects_missing_or_invalid_limits(kwargs, error):
    with pytest.raises(error):
        CostTracker().assert_under(**kwargs)


# -- reset, threads ------------------------------------------------------------------
def test_reset_forgets_entries_and_warned_models():
    tracker = _docs_tracker()
    with _unpriced():
        tracker.record("p", "a", "my-model", 1, 1)
    tracker.reset()
    assert (tracker.call_count, tracker.total_cost, tracker.by_agent()) == (0, 0.0, {})
    with _unpriced():
        tracker.record("p", "a", "my-model", 1, 1)


def test_entries_is_an_immutable_snapshot():
    tracker = _docs_tracker()
    snapshot = tracker.entries
    tracker.record("p", "a", "gpt-4o", 1, 1, 0.1)
    assert isinstance(snapshot, tuple)
    assert len(snapshot) == 3


def _run_threads(target: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_records_from_threads_are_all_counted_and_warned_once():
    tracker = CostTracker()
    start = threading.Barrier(8)

    def work(n: int) -> None:
        start.wait()
        for i in range(250):
            tracker.record("p", f"agent-{n}", "gpt-4o" if i % 2 else "my-model", 3, 2)

    with pytest.warns(PyAgentTraceWarning) as record:
        _run_threads(work, 8)
    assert (tracker.call_count, tracker.total_tokens, tracker.unpriced_calls) == (2000, 10000, 1000)
    assert len(record) == 1
    assert tracker.total_cost == pytest.approx(1000 * (3 * 2.5 + 2 * 10) / 1e6)
    assert len(tracker.tokens_by_agent()) == 8


def test_repr_shows_calls_and_total():
    assert repr(_docs_tracker()) == "CostTracker(calls=3, total_cost=0.01032)"


def test_record_call_takes_a_recorded_entry_with_its_cache_tokens():
    """The one path from a recorded call to a tracker: tokens, cache tokens, estimate flag, and
    a cost priced from them with the tracker's prices (the cassette's cost_usd is not read back)."""
    from pyagent_trace._recording import RecordEntry

    tracker = CostTracker(prices={"claude-haiku-4-5": {"input": 1.0, "output": 5.0, "cache_read": 0.1,
                                                       "cache_write": 1.25}})  # fmt: skip
    entry = RecordEntry("llm_call", agent_name="writer", model="claude-haiku-4-5", input_tokens=132,
                        output_tokens=9, cost_usd=0.0001, tokens_estimated=True,
                        metadata={"cache_read_tokens": 100, "cache_write_tokens": 20})  # fmt: skip

    recorded = tracker.record_call(entry)

    assert (recorded.agent, recorded.model, recorded.input_tokens, recorded.output_tokens) == (
        "writer",
        "claude-haiku-4-5",
        132,
        9,
    )
    assert (recorded.cache_read_tokens, recorded.cache_write_tokens) == (100, 20)
    assert recorded.cost_usd == pytest.approx((12 * 1.0 + 100 * 0.1 + 20 * 1.25 + 9 * 5.0) / 1e6)
    assert recorded.tokens_estimated is True
