"""Token counts for calls whose provider reported none.

tiktoken is used when it is installed *and* its encoding is already on disk (it
downloads encodings on first use, which a zero-network CI cannot do). Otherwise we
estimate 4 characters per token, OpenAI's published rule of thumb for English; every
count from here is flagged "estimated" by its callers.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["CHARS_PER_TOKEN", "count_tokens"]

CHARS_PER_TOKEN = 4


def _estimate(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


_O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"


def _encoding_cached() -> bool:
    """Whether tiktoken has o200k_base on disk (its cache layout: sha1 of the URL in
    TIKTOKEN_CACHE_DIR, DATA_GYM_CACHE_DIR or <tmp>/data-gym-cache). Asking tiktoken
    otherwise makes it download, which a replay run must never do."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    folder = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "data-gym-cache"
    return (folder / hashlib.sha1(_O200K_URL.encode()).hexdigest()).is_file()


@functools.cache
def _encoder() -> tuple[str, Callable[[str], int]]:
    if not _encoding_cached():
        return "estimate-4-chars", _estimate
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
