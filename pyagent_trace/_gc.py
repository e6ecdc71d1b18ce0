"""Pause Python's cyclic garbage collector while a burst of long-lived objects is built.

Loading a cassette, genai-prices' price data or vcrpy's patch modules allocates thousands of
objects that live as long as the process and form no cycles to free. With the collector on,
each burst triggers full collections that walk the whole heap of the test session again and
again (measured: genai-prices' data took 62 to 90 ms inside a pytest session that had imported
the OpenAI SDK, 28 to 40 ms with the collector paused).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off inside the block, back to how it was after (a user who turned it
    off keeps it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
