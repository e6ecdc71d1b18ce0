"""Fixtures shared by the integration tests (each block says what it serves)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_providers import FakeProviderServer


# -- HTTP record/replay: a fake OpenAI / Anthropic / Gemini server on 127.0.0.1 ---------------
@pytest.fixture
def fake_providers() -> Iterator[FakeProviderServer]:
    """A running fake provider server; tests may ``stop()`` it early to replay offline."""
    server = FakeProviderServer().start()
    try:
        yield server
    finally:
        server.stop()
