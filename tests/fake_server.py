"""tests/integration/fake_providers.py (and other helpers of one test folder) for every test
folder: loaded by path, once, because the test folders are not packages."""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TESTS = Path(__file__).parent


@functools.cache
def load_test_helper(relative: str) -> Any:
    """A helper module of one test folder (``"integration/_otlp_receiver.py"``) for the others, once."""
    path = TESTS / relative
    name = f"{path.stem}_shared"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        msg = f"cannot load {path}"
        raise ImportError(msg)
    module = sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_fake_providers() -> Any:
    return load_test_helper("integration/fake_providers.py")


def running_fake_server() -> Iterator[Any]:
    """A started FakeProviderServer, stopped afterwards (a fixture body)."""
    server = load_fake_providers().FakeProviderServer().start()
    try:
        yield server
    finally:
        server.stop()
