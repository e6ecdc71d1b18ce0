"""tests/integration/fake_providers.py for every test folder: loaded by path, once, because
the test folders are not packages."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PATH = Path(__file__).parent / "integration" / "fake_providers.py"


@functools.cache
def load_fake_providers() -> Any:
    spec = importlib.util.spec_from_file_location("fake_providers_shared", PATH)
    if spec is None or spec.loader is None:
        msg = f"cannot load {PATH}"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def running_fake_server() -> Iterator[Any]:
    """A started FakeProviderServer, stopped afterwards (a fixture body)."""
    server = load_fake_providers().FakeProviderServer().start()
    try:
        yield server
    finally:
        server.stop()
