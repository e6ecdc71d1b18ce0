"""Fixtures of the plugin tests: every test drives an inner pytest session.

``project`` gives a ``pytester`` whose folder holds a ``pytest.ini`` (asyncio auto mode)
and ``fake_llm.py``, the stand-in for a paid LLM that inner tests import. The
``pytester`` plugin itself is enabled in tests/conftest.py (pytest allows
``pytest_plugins`` only in the top-level conftest).
"""

from __future__ import annotations

import pytest
from plugin_testing import FAKE_LLM, write_ini


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """An inner project: pytest.ini plus the ``fake_llm`` helper module."""
    write_ini(pytester)
    pytester.makepyfile(fake_llm=FAKE_LLM)
    return pytester


@pytest.fixture
def forbid_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any call of the fake LLM in the inner session fails: proof that replay did not call it."""
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
