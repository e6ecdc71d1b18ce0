"""Every ```python block of README.md runs as written, and a new block no test runs fails
the guard below.

The library section reads as one narrative (``bus`` from the TraceEventBus block is used by
the exporter blocks, ``traces/run.jsonl`` written by the Recorder block is what TraceService
loads), so its blocks run in order in one namespace, in a temporary working directory, with
every backend a local fake: the OTLP endpoints through ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the
variable the blocks document), Langfuse's literal cloud host replaced by a fake on
127.0.0.1, the OpenAI SDK sent to the fake provider. Blocks that are pytest code run in an
inner pytest session in this process.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# What the README blocks import, imported at collection: an in-process pytest session (pytester)
# forgets the modules first imported during it, and a half-forgotten pydantic (langfuse's,
# genai-prices') cannot be imported again in that worker.
import genai_prices.data_snapshot
import genai_prices.types
import openai
import pyagent_patterns.orchestration
import pytest
from fake_server import load_test_helper, running_fake_server
from readme_blocks import Block, python_blocks, readme_block

from pyagent_trace import recorder, trace_service
from pyagent_trace.exporters import datadog, langfuse, otel, otlp

PRELOADED = (genai_prices, openai, pyagent_patterns, recorder, trace_service, datadog, langfuse, otel, otlp)

TESTS = Path(__file__).parent
plugin_testing = load_test_helper("plugin/plugin_testing.py")
receivers = load_test_helper("integration/_otlp_receiver.py")

HERE = "tests/test_readme_snippets.py"
FRAMEWORKS = "## Agent frameworks: LangChain, pydantic-ai, OpenAI Agents SDK, LiteLLM, instructor"
SPAN_FIXTURES = "## Span fixtures with your own tracer provider, or logfire"
FIELD_FRAMEWORKS = "tests/field/test_frameworks.py::test_framework_recipes_record_replay_and_rerecord"
FIELD_EXAMPLES = "tests/field/test_readme_examples.py::test_the_readme_examples_record_then_replay_offline_with_no_key"
NARRATIVE = f"{HERE}::test_the_library_blocks_run_in_order_as_one_script"
PYTEST_BLOCKS = f"{HERE}::test_the_pytest_blocks_pass_in_a_project"

# (heading, first line) of every README python block -> the test that runs it as written.
RUN_BY = [
    ("## A first test", "import openai", FIELD_EXAMPLES),
    ("## Secrets", "from pyagent_trace import RecordEntry", f"{HERE}::test_the_secrets_block_redacts_what_it_says"),
    ("## With pyagent-patterns agents", "import pytest", FIELD_EXAMPLES),
    (
        SPAN_FIXTURES,
        "# conftest.py — an application's provider",
        PYTEST_BLOCKS,
    ),
    (
        SPAN_FIXTURES,
        "# conftest.py — logfire users: nothing else to do, the fixtures join logfire's provider",
        "tests/field/test_span_providers.py::test_span_fixtures_join_logfire",
    ),
    (FRAMEWORKS, "import pytest", FIELD_FRAMEWORKS),  # LangChain
    (FRAMEWORKS, "import pytest", FIELD_FRAMEWORKS),  # pydantic-ai
    (FRAMEWORKS, "import pytest", FIELD_FRAMEWORKS),  # OpenAI Agents SDK
    (FRAMEWORKS, "import litellm", FIELD_FRAMEWORKS),
    (FRAMEWORKS, "import instructor", FIELD_FRAMEWORKS),
    ("### TraceEventBus", "import time", NARRATIVE),
    ("### Exporters", "from pyagent_trace.exporters import ConsoleExporter, JsonlExporter", NARRATIVE),
    ("### CostTracker", "from pyagent_trace import CostTracker", NARRATIVE),
    ("### Where prices come from", "import pytest", PYTEST_BLOCKS),
    ("### Recorder and ReplayLLM", "from pyagent_trace.recorder import Recorder, ReplayLLM", NARRATIVE),
    ("### Spans", "from pyagent_patterns import Agent", NARRATIVE),
    (
        "### HTTP cassettes: record and replay provider SDKs",
        "import openai",
        PYTEST_BLOCKS,
    ),
    ("#### Without pytest", "import asyncio", NARRATIVE),
    ("#### OpenTelemetryBridge: bus events → spans", "import asyncio", NARRATIVE),
    (
        "#### OTLP: Jaeger, Grafana Tempo, any collector",
        "from pyagent_patterns.orchestration import Pipeline",
        NARRATIVE,
    ),
    ("#### Langfuse", "from pyagent_trace.exporters.langfuse import LangfuseExporter", NARRATIVE),
    (
        "#### Datadog APM",
        "from pyagent_trace.exporters.datadog import DatadogExporter, datadog_tracer_provider",
        NARRATIVE,
    ),
    ("### TraceService", "from pyagent_trace.trace_service import TraceService", NARRATIVE),
]


def narrative() -> list[Block]:
    """The library section's blocks (those RUN_BY gives the narrative test), in README order."""
    mine = {(heading, first) for heading, first, test in RUN_BY if test == NARRATIVE}
    return [block for block in python_blocks() if (block.heading, block.first_line) in mine]


def test_every_readme_python_block_is_run_by_a_test():
    """A ```python block added to README.md (or changed in its first line) needs a row in RUN_BY
    naming the test that runs it; every test named there exists."""
    in_readme = Counter((block.heading, block.first_line) for block in python_blocks())
    in_table = Counter((heading, first) for heading, first, _ in RUN_BY)
    assert in_readme - in_table == Counter(), "README python blocks no test runs: add them to RUN_BY"
    assert in_table - in_readme == Counter(), "RUN_BY rows whose README block is gone or changed"
    for _, _, test in RUN_BY:
        path, name = test.split("::")
        assert f"\ndef {name}(" in (TESTS.parent / path).read_text(), f"{test} does not exist"


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fake provider on 127.0.0.1, where ``openai.OpenAI()`` goes (its own variables)."""
    for server in running_fake_server():
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-readme0123456789abcdef")
        yield server


def run_block(code: str, heading: str, namespace: dict[str, Any]) -> None:
    exec(compile(code, f"README.md {heading}", "exec"), namespace)


def test_the_secrets_block_redacts_what_it_says(tmp_path, monkeypatch):
    """The block runs, and its ``# removed == [...]`` comments are what the two calls return."""
    monkeypatch.chdir(tmp_path)
    code, namespace = readme_block("## Secrets"), dict[str, Any]()
    run_block(code, "## Secrets", namespace)
    said = [line.removeprefix("# removed == ") for line in code.splitlines() if line.startswith("# removed == ")]
    _, from_http = namespace["scrub_http"](namespace["interaction"], namespace["config"])
    _, from_entry = namespace["scrub_entry"](namespace["entry"], namespace["config"])
    assert said == [json.dumps(from_http), json.dumps(from_entry)]
    assert "sk-proj" not in repr(namespace["clean"]) + repr(namespace["clean_entry"])


def test_the_library_blocks_run_in_order_as_one_script(tmp_path, monkeypatch, capsys, fake_openai):
    """The library section's blocks, pasted one after the other, run; their spans reach the
    OTLP, Datadog (OTLP) and Langfuse fakes, and the Without-pytest cassette replays offline."""
    monkeypatch.chdir(tmp_path)
    with receivers.OtlpHttpReceiver() as backend:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", backend.url)
        real_langfuse = langfuse.LangfuseExporter

        @functools.wraps(real_langfuse)
        def to_fake_langfuse(**kwargs: Any) -> Any:
            return real_langfuse(**{**kwargs, "host": backend.url})  # the block's literal is Langfuse Cloud

        monkeypatch.setattr(langfuse, "LangfuseExporter", to_fake_langfuse)
        namespace: dict[str, Any] = {}
        for block in narrative():
            run_block(block.code, block.heading, namespace)
            if block.heading == "#### OpenTelemetryBridge: bus events → spans":
                bridge_provider = namespace["provider"]
                bridge_provider.force_flush()
                assert len(backend.wait_for_spans(3)) == 3  # the pipeline and its two agents
        namespace["provider"].shutdown()  # the OTLP block's gRPC provider: nothing was run on it
        asyncio.run(namespace["pipeline"].run("Tesla Q3 2025 earnings report..."))  # now also to Langfuse, Datadog
        for subscription in namespace["bus"]._subscriptions:  # the exporters the blocks subscribed
            exporter = getattr(subscription.callback, "__self__", None)
            if hasattr(exporter, "shutdown"):
                exporter.shutdown()
        bridge_provider.shutdown()  # a provider given to the bridge is the caller's to shut down
        paths = Counter(r.path for r in backend.requests)
        services = {s["resource"].get("service.name") for s in backend.spans}

    assert paths["/api/public/otel/v1/traces"] >= 1, paths
    assert {"earnings-brief"} <= services, services  # DatadogExporter(service="earnings-brief")
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["[agent_start] analyst", "{}"]  # the bus block's two subscribers
    assert "  [llm_call] extractor: 0ms, 222 tokens" in out  # TraceService over the Recorder's file
    cassette = namespace["cassette"]
    assert (cassette.calls_recorded, cassette.calls_replayed) == (2, 0)
    assert cassette.tracker.total_cost > 0  # both calls priced: the SDK call's usage, model= for my_llm

    fake_openai.stop()  # the Without-pytest block again: the cassette now exists, mode "once" replays it
    again: dict[str, Any] = {}
    run_block(readme_block("#### Without pytest"), "#### Without pytest", again)
    assert (again["cassette"].calls_recorded, again["cassette"].calls_replayed) == (0, 2)


TEST_PRICES = """
def test_house_model_is_priced(cost_tracker):
    cost_tracker.record("brief", "writer", "house-model", 1_000_000, 1_000_000)
    assert cost_tracker.total_cost == 2.0
"""
TEST_SPANS = """
from opentelemetry import trace


def test_spans_join_the_provider(spans):
    with trace.get_tracer("app").start_as_current_span("work"):
        pass
    assert spans.names == ["work"]
"""


def test_the_pytest_blocks_pass_in_a_project(pytester, fake_openai, monkeypatch):
    """The HTTP-cassettes test records against the fake provider and replays without it; the
    pyagent_trace_prices fixture prices its model; the application-provider conftest feeds `spans`."""
    plugin_testing.write_ini(pytester)
    pytester.makepyfile(test_plan=readme_block("### HTTP cassettes: record and replay provider SDKs"))
    pytester.mkpydir("prices")
    (pytester.path / "prices" / "conftest.py").write_text(readme_block("### Where prices come from"))
    (pytester.path / "prices" / "test_prices.py").write_text(TEST_PRICES)
    pytester.mkpydir("app")
    (pytester.path / "app" / "conftest.py").write_text(readme_block(SPAN_FIXTURES))
    (pytester.path / "app" / "test_spans.py").write_text(TEST_SPANS)

    recorded = plugin_testing.run(pytester, "--record-mode=once", "--snapshot-update")
    recorded.assert_outcomes(passed=3)
    fake_openai.stop()
    monkeypatch.delenv("OPENAI_API_KEY")
    replayed = plugin_testing.run(pytester, "test_plan.py")
    replayed.assert_outcomes(passed=1)
