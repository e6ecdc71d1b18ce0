"""The example agent suite (examples/agent_suite) as its users run it: plain `pytest` in its
folder replays the committed cassettes, and re-recording unchanged behaviour rewrites
every cassette byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

from field_project import FieldProject

SUITE = Path(__file__).parents[2] / "examples" / "agent_suite"


def test_re_recording_the_example_suite_gives_byte_identical_cassettes(field: FieldProject):
    """`pytest --record` against the suite's deterministic stand-in LLMs changes no byte of any cassette."""
    shutil.copytree(SUITE, field.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    before = {p.relative_to(field.path): p.read_bytes() for p in field.path.rglob("*.jsonl")}

    replayed = field.pytest()
    recorded = field.pytest("--record")

    assert replayed.outcomes() == {"passed": 6}, replayed
    assert recorded.outcomes() == {"passed": 6}, recorded
    after = {p.relative_to(field.path): p.read_bytes() for p in field.path.rglob("*.jsonl")}
    assert len(before) == 6
    assert after == before
