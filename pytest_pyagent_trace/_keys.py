"""Placeholder API keys while a cassette test replays, so CI needs no secret.

The OpenAI, Anthropic and Google SDKs refuse to build a client without a key, before
any request; a replay sends none. A variable the user set is never touched, and a test
that records gets none of this (it needs the real key).
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["PLACEHOLDER", "placeholder_keys"]

PLACEHOLDER = "pyagent-trace-replay-placeholder"
# Each group is one provider: a placeholder is set only when none of its names is set.
_PROVIDER_VARIABLES = (("OPENAI_API_KEY",), ("ANTHROPIC_API_KEY",), ("GOOGLE_API_KEY", "GEMINI_API_KEY"))


@contextlib.contextmanager
def placeholder_keys() -> Iterator[list[str]]:
    """Set the missing providers' key variables for the duration; yields the names set."""
    added = [names[0] for names in _PROVIDER_VARIABLES if not any(os.environ.get(n) for n in names)]
    for name in added:
        os.environ[name] = PLACEHOLDER
    try:
        yield added
    finally:
        for name in added:
            if os.environ.get(name) == PLACEHOLDER:
                del os.environ[name]
