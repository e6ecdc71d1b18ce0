"""The README's test examples, run as written: recorded against a fake provider on
127.0.0.1, then replayed with the provider stopped and no API key in the environment."""

from __future__ import annotations

from field_project import FieldProject
from readme_blocks import readme_block


def test_the_readme_examples_record_then_replay_offline_with_no_key(field: FieldProject, fake_server):
    """'A first test' and 'With pyagent-patterns agents' pass recording, replay offline keyless and strict, and a
    re-record against the same deterministic provider rewrites no byte and keeps the snapshot passing."""
    field.configure()
    field.write("test_example.py", readme_block("## A first test"))
    field.write("test_patterns.py", readme_block("## With pyagent-patterns agents"))
    live = {"OPENAI_API_KEY": "sk-test-readme0123456789abcdef", "OPENAI_BASE_URL": f"{fake_server.url}/v1"}

    port = int(fake_server.url.rsplit(":", 1)[1])
    recorded = field.pytest("--record-mode=once", "--snapshot-update", env=live)
    fake_server.stop()
    replayed = field.pytest("--strict-cassettes")  # a plain replay that also fails on unused calls or files
    cassettes = {p: p.read_bytes() for p in field.path.rglob("*.jsonl")}
    fake_server.start(port)  # the same provider, answering the same again
    rerecorded = field.pytest("--record", env=live)

    assert recorded.outcomes() == {"passed": 2}, recorded
    assert replayed.outcomes() == {"passed": 2}, replayed
    assert "2 cassettes used, 0 written" in replayed.stdout
    assert rerecorded.outcomes() == {"passed": 2}, rerecorded  # the snapshot taken at recording still passes
    assert {p: p.read_bytes() for p in field.path.rglob("*.jsonl")} == cassettes
    brief = field.cassette("test_patterns", "test_brief")
    calls = field.entries(brief)
    assert [c["agent_name"] for c in calls] == ["extractor", "writer"]
    assert field.entries(brief, "http_interaction") == []  # the SDK call inside cassette.llm is that call
    assert [(c["input_tokens"], c["output_tokens"], c["tokens_estimated"]) for c in calls] == [(120, 30, False)] * 2
    assert "sk-test-readme" not in field.cassette("test_example", "test_summary").read_text()
