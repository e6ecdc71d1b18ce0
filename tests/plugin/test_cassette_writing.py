"""What the plugin does with a cassette path it must not write, and a write that fails.

Inner sessions run in-process (``pytester.runpytest``): the plugin's reporting is the point.
"""

from __future__ import annotations

import os

import pytest
from plugin_testing import INNER_FLAGS

from pyagent_trace._recording import load_entries

MARKED = """
    import pytest
    from fake_llm import FakeLLM, ask

    @pytest.mark.cassette("helpers.py")
    async def test_plan(cassette):
        await cassette.llm(FakeLLM(), agent_name="planner")(ask("hi"))
"""

ONE_CALL = """
    from fake_llm import FakeLLM, ask

    async def test_plan(cassette):
        await cassette.llm(FakeLLM(), agent_name="planner")(ask("paid for"))
"""

DISK_FULL = """
    import errno, os
    from pathlib import Path

    import pytest

    @pytest.fixture(autouse=True)
    def disk_full(monkeypatch):
        real = os.replace

        def replace(src, dst, *args, **kwargs):
            if Path(dst).parent.name == "test_trip":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
"""


def test_a_marker_naming_a_source_file_is_a_setup_error_and_the_file_is_untouched(project):
    source = "def helper():\n    return 42\n"
    project.makepyfile(helpers=source, test_trip=MARKED)
    source = (project.path / "helpers.py").read_text()

    result = project.runpytest(*INNER_FLAGS, "--record-mode=all")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_plan*"])
    result.stdout.fnmatch_lines([f"*Cassette path {project.path / 'helpers.py'} does not end in .jsonl*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    assert (project.path / "helpers.py").read_text() == source


def test_a_cassette_that_cannot_be_written_fails_in_one_line_and_the_calls_are_rescued(project):
    """A read-only cassette folder; as root chmod cannot stop a write, so a full disk is simulated."""
    project.makepyfile(test_trip=ONE_CALL)
    folder = project.path / "cassettes" / "test_trip"
    folder.mkdir(parents=True)
    if os.geteuid() == 0:
        project.makeconftest(DISK_FULL)
        reason = "No space left on device"
    else:
        folder.chmod(0o555)
        reason = "Permission denied"
    try:
        result = project.runpytest(*INNER_FLAGS, "--record-mode=once")
    finally:
        folder.chmod(0o755)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*Cassette {folder / 'test_plan.jsonl'} could not be written ({reason})*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    (rescued,) = (project.path / ".pyagent-trace" / "rescued").glob("test_plan-*.jsonl")
    assert str(rescued) in result.stdout.str()
    assert [e.messages for e in load_entries(rescued)] == [[{"role": "user", "content": "paid for"}]]
    assert not (folder / "test_plan.jsonl").exists()


@pytest.fixture(autouse=True)
def _inner_cwd(project, monkeypatch):
    """Rescue files go under the working directory: the inner project's."""
    monkeypatch.chdir(project.path)
