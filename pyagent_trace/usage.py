"""Usage: the token counts of one call, in one convention for every provider.

``input_tokens`` counts every prompt-side token, cached ones included (OpenAI's and
OpenTelemetry's meaning); ``cache_read_tokens`` / ``cache_write_tokens`` say how many of
them were read from or written to a prompt cache. ``output_tokens`` counts every
generated token, reasoning included; ``reasoning_tokens`` says how many of them were.
Adding two gives the usage of both calls, so every total is a sum of ``Usage``.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Usage"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Canonical token counts of one call (or the sum of several)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )
