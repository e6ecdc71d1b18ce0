"""The cyclic GC is paused around bulk loads and left as the user had it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pyagent_trace._gc import gc_paused


@pytest.fixture
def gc_state() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after(gc_state: None) -> None:
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_is_back_on_after_an_error(gc_state: None) -> None:
    gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("load failed")
    assert gc.isenabled()


def test_a_user_who_turned_it_off_keeps_it_off(gc_state: None) -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_the_first_price_lookup_leaves_the_collector_on(gc_state: None) -> None:
    from pyagent_trace import _genai_prices

    gc.enable()
    _genai_prices._models.clear()
    _genai_prices._hot.clear()
    assert _genai_prices.genai_quote("gpt-4o-mini", "openai", 1.75e9) is not None
    assert gc.isenabled()
