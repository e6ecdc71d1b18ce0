"""HTTP-level recording for a test: the library's ``HttpCassette`` fed by, and feeding,
the test's ``Cassette``, so SDK calls land in the same file, tracker, bus and span tree.

Imported only for tests that have a cassette: vcrpy is never loaded otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pyagent_trace.http import HttpCassette, emit_genai_span, is_llm_entry
from pyagent_trace.scrub import ScrubConfig
from pytest_pyagent_trace._cassette_llm import INSIDE_LLM

if TYPE_CHECKING:
    from pyagent_trace._recording import RecordEntry
    from pytest_pyagent_trace._cassette import Cassette

__all__ = ["close_http", "open_http"]

_HTTP = "http_interaction"


def open_http(cassette: Cassette, settings: Mapping[str, tuple[str, ...]]) -> HttpCassette:
    """An entered ``HttpCassette`` over this test's cassette; close it with ``close_http``.

    ``settings`` are the ini options: extra scrub filters and hosts to leave alone.
    """

    def recorded(entry: RecordEntry) -> None:
        inside = INSIDE_LLM.get()
        if inside is not None and is_llm_entry(entry):  # part of a cassette.llm() call: one call, not two
            inside.append(entry)
            return
        if cassette.recorded_by:
            entry.metadata["recorded_by"] = cassette.recorded_by
        cassette.recorded.append(entry)
        _account(cassette, entry, replayed=False)

    hint = (
        f"Re-record the cassette with: {cassette.rerecord_command}"
        if cassette.existed
        else f"Cassette {cassette.display_path} does not exist. Record it with: {cassette.record_command}"
    )
    http = HttpCassette(
        [e for e in cassette.loaded if e.event_type == _HTTP],
        mode=cassette.mode.value,
        source=cassette.display_path,
        existed=cassette.existed,
        prices=cassette.tracker.prices,
        on_record=recorded,
        on_replay=lambda entry: _account(cassette, entry, replayed=True),
        rerecord_hint=hint,
        scrub=ScrubConfig().with_extra(
            headers=settings.get("pyagent_trace_scrub_headers", ()),
            query=settings.get("pyagent_trace_scrub_query", ()),
            body_paths=settings.get("pyagent_trace_scrub_body_paths", ()),
        ),
        ignore_hosts=settings.get("pyagent_trace_ignore_hosts", ()),
    )
    http.__enter__()
    cassette.http = http
    return http


def close_http(http: HttpCassette) -> list[Exception]:
    """Remove the HTTP patches; returns the replay misses the code under test met (SDKs
    wrap them as connection errors and may retry them, so they are reported here)."""
    http.errors, errors = [], list(http.errors)
    http.__exit__(None, None, None)
    return errors


def _account(cassette: Cassette, entry: RecordEntry, *, replayed: bool) -> None:
    """A provider call costs and shows up like an LLM-level call, plus its GenAI span;
    other HTTP traffic (a tool's weather API) costs nothing."""
    if is_llm_entry(entry):
        emit_genai_span(entry)
        cassette.account(entry, replayed=replayed)
