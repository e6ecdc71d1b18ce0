"""Fixtures of the field suite: each test gets a fresh user project in ``tmp_path`` and
runs pytest in it as a subprocess, as a user would.

Recording a project takes a pytest run; the projects several tests replay are recorded
once per session (per xdist worker) and copied into each test's own folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from field_project import FieldProject, load_fake_providers
from scenarios import AGENT_CASSETTES, AGENT_TESTS, VCR_AND_CASSETTE


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


@pytest.fixture(scope="session")
def recorded_agents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project (asyncio auto mode) whose two unmarked async cassette tests in
    ``test_agent.py`` were recorded with ``pytest --record-mode=once``."""
    project = FieldProject(tmp_path_factory.mktemp("recorded_agents")).with_fake_llm()
    project.configure('asyncio_mode = "auto"')
    project.write("test_agent.py", AGENT_TESTS)
    result = project.pytest("--record-mode=once")
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    for test in AGENT_CASSETTES:
        assert project.cassette("test_agent", test).is_file(), result
    return project.path


@pytest.fixture(scope="session")
def recorded_mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A project whose ``test_mixed.py`` (a pytest-recording test calling the fake server
    with httpx, and a cassette test) was recorded with ``pytest --record-mode=once``, both
    plugins autoloaded; and the URL of the fake server, stopped since."""
    project = FieldProject(tmp_path_factory.mktemp("recorded_mixed")).with_fake_llm()
    project.configure()
    project.write("test_mixed.py", VCR_AND_CASSETTE)
    server = load_fake_providers().FakeProviderServer().start()
    base = server.url
    try:
        result = project.pytest("--record-mode=once", env={"FAKE_BASE": base})
    finally:
        server.stop()
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    vcr_cassette = project.path / "cassettes" / "test_mixed" / "test_weather_api.yaml"
    assert "weather?" in vcr_cassette.read_text(), result
    assert len(project.entries(project.cassette("test_mixed", "test_agent"))) == 1, result
    return project.path, base
