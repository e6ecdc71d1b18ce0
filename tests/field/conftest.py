"""Fixtures of the field suite: each test gets a fresh user project in ``tmp_path`` and
runs pytest in it as a subprocess, as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from field_project import FieldProject, load_fake_providers


@pytest.fixture
def field(tmp_path: Path) -> FieldProject:
    """An empty project folder (``tmp_path/project``) with pytest run in it."""
    project = tmp_path / "project"
    project.mkdir()
    return FieldProject(project)


@pytest.fixture
def fake_server() -> Iterator[Any]:
    """The fake OpenAI/Anthropic/Gemini server on 127.0.0.1 (``.url``, ``.stop()``)."""
    server = load_fake_providers().FakeProviderServer().start()
    yield server
    server.stop()
