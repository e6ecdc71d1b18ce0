"""Token counts for calls whose provider reported none.

tiktoken is used when it is installed *and* its encoding is already on disk (it
downloads encodings on first use, which a zero-network CI cannot do). Otherwise we
estimate 4 characters per token, OpenAI's published rule of thumb for English; every
count from here is flagged "estimated" by its callers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

__all__ = ["CHARS_PER_TOKEN", "count_tokens", "tokenizer_name"]

CHARS_PER_TOKEN = 4


def _estimate(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@functools.cache
def _encoder() -> tuple[str, Callable[[str], int]]:
    try:
        import tiktoken

        encoding = tiktoken.get_encoding("o200k_base")
    except Exception:  # not installed, or the encoding cannot be fetched offline
        return "estimate-4-chars", _estimate
    encode = encoding.encode_ordinary
    return "tiktoken-o200k_base", lambda text: len(encode(text))


def count_tokens(text: str) -> int:
    """Tokens in ``text``: exact with tiktoken, else ceil(len/4)."""
    if not text:
        return 0
    return _encoder()[1](text)


def tokenizer_name() -> str:
    """Which counter :func:`count_tokens` uses, for reports."""
    return _encoder()[0]
