"""Bad cassette files and bad values, against every reader and at every write.

A parametrized corpus of malformed files by the readers (Recorder.load, ReplayLLM,
TraceService, the plugin's cassette read, Cassette, and the CLI commands view, stats, diff,
html, scrub): each gives one line naming the file, the line and the field, never a
traceback. Then what is not a regular file, over-long lines, values refused where the API
is given them, and the write side: a path that is not .jsonl, a failed write rescued, stale
temp files cleaned and unseen by git, per-user lock folders.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from pyagent_trace import _jsonl_io
from pyagent_trace._recording import RecordEntry, load_entries, save_entries
from pyagent_trace.cassette import Cassette
from pyagent_trace.cassette._file import read_cassette, write_cassette
from pyagent_trace.cli import app
from pyagent_trace.exceptions import BadRecordingError, CassetteWriteError, ConfigError
from pyagent_trace.recorder import Recorder
from pyagent_trace.replay import ReplayLLM
from pyagent_trace.trace_service import TraceService

HEADER = {"event_type": "recording_header", "format": "pyagent-trace", "format_version": 1}
CALL = {
    "event_type": "llm_call",
    "agent_name": "a",
    "model": "gpt-4o-mini",
    "timestamp": 1.7e9,
    "duration_ms": 12.5,
    "input_tokens": 3,
    "output_tokens": 2,
    "tokens": 5,
    "cost_usd": 0.001,
    "messages": [{"role": "user", "content": "q1"}],
    "response": "r1",
}
HTTP = {
    "event_type": "http_interaction",
    "metadata": {
        "http": {
            "request": {"method": "POST", "url": "https://api.openai.com/v1/chat/completions", "body": {}},
            "response": {"status": 200, "headers": {}, "body": {}},
        }
    },
}


def _line(row: object) -> bytes:
    return orjson.dumps(row) + b"\n"


def _file(*rows: object, header: object = HEADER) -> bytes:
    return b"".join(_line(r) for r in ([header] if header is not None else []) + list(rows))


def _http(**response: object) -> dict[str, object]:
    return {**HTTP, "metadata": {"http": {"request": HTTP["metadata"]["http"]["request"], "response": response}}}  # type: ignore[index]


# (id, file bytes, the line at fault, what the message names)
CORPUS = [
    ("metadata-a-list", _file(CALL, {**CALL, "metadata": [1, 2]}), 3, "'metadata'"),
    ("metadata-a-list-beside-extra-keys", _file({**CALL, "metadata": [1], "extra": 1}), 2, "'metadata'"),
    ("model-null", _file({**CALL, "model": None}), 2, "'model'"),
    ("messages-a-string", _file({**CALL, "messages": "q1"}), 2, "'messages'"),
    ("message-not-an-object", _file({**CALL, "messages": ["q1"]}), 2, "'messages[0]'"),
    ("http-without-response", _file({**HTTP, "metadata": {"http": {"request": {}}}}), 2, "'metadata.http.response'"),
    (
        "http-without-response-with-request",
        _file({**HTTP, "metadata": {"http": {"request": HTTP["metadata"]["http"]["request"]}}}),  # type: ignore[index]
        2,
        "'metadata.http.response'",
    ),
    ("http-without-metadata", _file({"event_type": "http_interaction"}), 2, "'metadata.http'"),
    ("bad-body-base64", _file(_http(status=200, body_base64="!!not base64!!")), 2, "body_base64"),
    ("body-base64-a-number", _file(_http(status=200, body_base64=7)), 2, "body_base64"),
    ("http-status-a-string", _file(_http(status="200")), 2, "'metadata.http.response.status'"),
    ("cost-1e308-twice", _file({**CALL, "cost_usd": 1e308}, {**CALL, "cost_usd": 1e308}), 2, "'cost_usd'"),
    ("negative-tokens", _file({**CALL, "input_tokens": -5}), 2, "'input_tokens'"),
    ("fractional-tokens", _file({**CALL, "output_tokens": 1.5}), 2, "'output_tokens'"),
    ("1e25-tokens", _file({**CALL, "tokens": 1e25}), 2, "'tokens'"),
    ("boolean-tokens", _file({**CALL, "input_tokens": True}), 2, "'input_tokens'"),
    ("negative-cost", _file({**CALL, "cost_usd": -5.0}), 2, "'cost_usd'"),
    ("string-cost", _file({**CALL, "cost_usd": "12"}), 2, "'cost_usd'"),
    ("negative-duration", _file({**CALL, "duration_ms": -1.0}), 2, "'duration_ms'"),
    ("format-version-0", _file(CALL, header={**HEADER, "format_version": 0}), 1, "'format_version'"),
    ("format-version-minus-3", _file(CALL, header={**HEADER, "format_version": -3}), 1, "'format_version'"),
    ("format-version-a-string", _file(CALL, header={**HEADER, "format_version": "1"}), 1, "'format_version'"),
    ("format-version-missing", _file(CALL, header={"event_type": "recording_header"}), 1, "'format_version'"),
    ("format-vcrpy", _file(CALL, header={**HEADER, "format": "vcrpy"}), 1, "'format'"),
    ("priced-no", _file({**CALL, "priced": "no"}), 2, "'priced'"),
    ("estimated-1", _file({**CALL, "tokens_estimated": 1}), 2, "'tokens_estimated'"),
    ("dict-response", _file({**CALL, "response": {"text": "r1"}}), 2, "'response'"),
    ("no-event-type", _file({**CALL, "event_type": None}), 2, "'event_type'"),
    ("truncated-last-line", _file(CALL) + b'{"event_type": "llm_call", "agent_na', 3, "not valid JSON"),
    ("non-json-line", _file(CALL) + b"hello world\n", 3, "not valid JSON"),
    ("a-json-array-line", _file(CALL) + b"[1, 2]\n", 3, "JSON object per line"),
    ("binary-garbage", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 8, 1, "JSON"),
]


def _library(reader):  # type: ignore[no-untyped-def]
    def run(path: Path, good: Path) -> str:
        with pytest.raises(BadRecordingError) as caught:
            reader(path)
        return str(caught.value)

    return run


_runner = CliRunner()


def _cli(*command: str):  # type: ignore[no-untyped-def]
    def run(path: Path, good: Path) -> str:
        args = [str(good) if a == "GOOD" else a for a in command]
        result = _runner.invoke(app, [*args, str(path)])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.stderr.strip()

    return run


READERS = {
    "Recorder.load": _library(Recorder.load),
    "ReplayLLM": _library(ReplayLLM.from_recording),
    "TraceService": _library(lambda p: TraceService().load(p)),
    "plugin-read": _library(read_cassette),
    "Cassette": _library(Cassette),
    "view": _cli("view"),
    "stats": _cli("stats"),
    "diff": _cli("diff", "GOOD"),
    "html": _cli("html"),
    "scrub": _cli("scrub"),
}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.jsonl"
    path.write_bytes(_file(CALL))
    return path


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("content", "line", "field"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_a_malformed_file_is_one_line_naming_file_line_and_field(tmp_path, good, reader, content, line, field):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    message = READERS[reader](path, good)
    assert len(message.splitlines()) == 1, message
    assert "Traceback" not in message
    assert f"{path}:{line}:" in message
    assert field in message
    assert any(hint in message.lower() for hint in ("re-record", "fix", "upgrade", "give a")), message
    assert "None is newer" not in message


def test_a_header_without_version_does_not_claim_a_newer_version(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(_file(CALL, header={"event_type": "recording_header", "format": "pyagent-trace"}))
    with pytest.raises(BadRecordingError, match=r"x\.jsonl:1: the header has no 'format_version'") as caught:
        load_entries(path)
    assert "newer" not in str(caught.value)


def test_every_good_kind_still_loads(tmp_path):
    events = [
        {"event_type": "pattern_start", "pattern_type": "debate", "timestamp": 1.0, "metadata": {"rounds": 2}},
        {"event_type": "agent_end", "agent_name": "a", "duration_ms": 3, "extra_key": "kept"},
        CALL,
        _http(status=200, body_base64="aGk=", headers={"x": ["1"]}),
        _http(status=200, body="", sse_events=["data: {}\n\n"]),
    ]
    path = tmp_path / "ok.jsonl"
    path.write_bytes(_file(*events))
    entries = load_entries(path)
    assert [e.event_type for e in entries] == ["pattern_start", "agent_end", "llm_call", "http_interaction"] * 1 + [
        "http_interaction"
    ]
    assert entries[1].metadata == {"extra_key": "kept"}


def test_a_dict_response_is_never_handed_back_by_replay(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(_file({**CALL, "response": {"text": "r1"}}))
    with pytest.raises(BadRecordingError, match="'response' must be a string"):
        ReplayLLM.from_recording(path, "a")


def test_an_empty_file_reads_as_no_entries_and_the_cli_says_so(tmp_path, good):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert Recorder.load(path) == []
    assert read_cassette(path) == []
    message = _cli("view")(path, good)
    assert "holds no entries" in message


# -- what is not a regular file ------------------------------------------------------------------
def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.jsonl"
    os.mkfifo(path)
    return path


def _dev_zero(tmp_path: Path) -> Path:
    path = tmp_path / "zero.jsonl"
    path.symlink_to("/dev/zero")
    return path


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "folder.jsonl"
    path.mkdir()
    return path


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("make", [_fifo, _dev_zero, _folder], ids=["fifo", "dev-zero", "folder"])
def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path, good, reader, make):
    path = make(tmp_path)
    started = time.perf_counter()
    if reader in ("plugin-read", "Cassette"):
        with pytest.raises(ConfigError) as caught:
            read_cassette(path) if reader == "plugin-read" else Cassette(path)
        message = str(caught.value)
    else:
        message = READERS[reader](path, good)
    assert time.perf_counter() - started < 5
    assert len(message.splitlines()) == 1, message
    assert str(path) in message
    assert "not a regular file" in message or "is a directory" in message


def test_a_line_over_the_bound_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(_jsonl_io, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "long.jsonl"
    path.write_bytes(_file(CALL) + _line({**CALL, "response": "x" * 3000}))
    with pytest.raises(BadRecordingError, match=r"long\.jsonl:3: line longer than"):
        load_entries(path)
    path.write_bytes(_file(*[CALL] * 20))  # bigger than the bound, every line within it: streamed
    assert len(load_entries(path)) == 20


# -- values refused where they are given ---------------------------------------------------------
@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("cost_usd", float("nan")),
        ("cost_usd", float("inf")),
        ("cost_usd", True),
        ("cost_usd", "12"),
        ("cost_usd", -1.0),
        ("input_tokens", 10**30),
        ("output_tokens", -1),
        ("input_tokens", 1.5),
        ("input_tokens", "3"),
        ("duration_ms", -2.0),
        ("duration_ms", float("nan")),
    ],
)
def test_record_llm_call_refuses_a_bad_value_naming_the_argument(argument, value):
    recorder = Recorder()
    with pytest.raises(ConfigError, match=rf"record_llm_call: {argument}="):
        recorder.record_llm_call("a", "q", "r", **{"input_tokens": 1, "output_tokens": 1, argument: value})
    assert len(recorder) == 0


@pytest.mark.parametrize("count", [-1, True, 10**30])
def test_a_real_llm_reporting_impossible_usage_is_refused_at_the_call(count):
    from pyagent_trace.cassette._llm import read_reply

    with pytest.raises(ConfigError, match=r"The real LLM reported usage\.input_tokens="):
        read_reply({"content": "hi", "usage": {"input_tokens": count, "output_tokens": 1}})


def test_saving_an_entry_the_schema_refuses_writes_nothing(tmp_path):
    path = tmp_path / "x.jsonl"
    with pytest.raises(ConfigError, match=r"x\.jsonl: entry 2 \('llm_call'\): 'cost_usd'"):
        save_entries(path, [RecordEntry("llm_call"), RecordEntry("llm_call", cost_usd=float("nan"))])
    assert not path.exists()


# -- paths and writing ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["helpers.py", "cassette.yaml", "notes"])
def test_a_cassette_path_must_be_jsonl_and_nothing_else_is_written_over(tmp_path, monkeypatch, name):
    path = tmp_path / name
    path.write_text("def helper(): ...\n")
    with pytest.raises(ConfigError, match=rf"Cassette path {path} does not end in \.jsonl"):
        Cassette(path, mode="all")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CassetteWriteError, match=r"does not end in \.jsonl.*was saved to") as caught:
        write_cassette(path, [RecordEntry("llm_call")], keep_existing=False, recorded_by=None)
    assert Path(caught.value.rescued or "").exists()
    assert path.read_text() == "def helper(): ...\n"


def _failing_replace(monkeypatch, target: Path, code: int = errno.ENOSPC) -> None:
    real = os.replace

    def replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(dst) == target:
            raise OSError(code, os.strerror(code))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_a_failed_write_saves_the_calls_to_a_rescue_file_it_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cassette = tmp_path / "cassettes" / "test_x.jsonl"
    _failing_replace(monkeypatch, cassette)
    calls = [RecordEntry("llm_call", agent_name="a", response="paid for", cost_usd=0.5)]
    with pytest.raises(CassetteWriteError) as caught:
        write_cassette(cassette, calls, keep_existing=False, recorded_by=None)
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    assert f"Cassette {cassette} could not be written (No space left on device)" in message
    rescued = Path(caught.value.rescued or "")
    assert rescued.parent == tmp_path / ".pyagent-trace" / "rescued"
    assert str(rescued) in message
    assert [e.response for e in load_entries(rescued)] == ["paid for"]
    assert (tmp_path / ".pyagent-trace" / ".gitignore").read_text().endswith("*\n")
    assert not cassette.exists()
    assert list((cassette.parent / _jsonl_io.TMP_DIR).glob("*.tmp")) == []  # no temp file left behind


def test_the_rescue_falls_back_to_the_temp_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".pyagent-trace").write_text("not a folder")  # the project rescue folder cannot be made
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    cassette = tmp_path / "test_x.jsonl"
    _failing_replace(monkeypatch, cassette, errno.EROFS)
    with pytest.raises(CassetteWriteError, match="Read-only file system") as caught:
        write_cassette(cassette, [RecordEntry("llm_call")], keep_existing=False, recorded_by=None)
    assert Path(caught.value.rescued or "").parent == tmp_path / "tmp" / f"pyagent-trace-rescued-{os.getuid()}"


def test_a_cassette_that_cannot_be_written_is_one_error_and_rescues_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "c.jsonl"
    _failing_replace(monkeypatch, path, errno.EACCES)

    async def llm(messages):  # type: ignore[no-untyped-def]
        return "answer"

    cassette = Cassette(path, mode="once")
    asyncio.run(cassette.llm(llm, agent_name="a", model="gpt-4o-mini")([{"role": "user", "content": "q"}]))
    with pytest.raises(CassetteWriteError, match="Permission denied"):
        cassette.finish()
    assert cassette.finish() is False  # rescued once, never twice
    assert len(list((tmp_path / ".pyagent-trace" / "rescued").glob("c-*.jsonl"))) == 1


def test_stale_temp_files_are_cleaned_and_live_ones_kept(tmp_path):
    folder = tmp_path / "cassettes"
    tmp = folder / _jsonl_io.TMP_DIR
    tmp.mkdir(parents=True)
    old = time.time() - 3600
    stale = tmp / ".test_a.jsonl.k2j3h4.tmp"
    legacy = folder / ".test_b.jsonl.abcd1234.tmp"
    fresh = tmp / ".test_c.jsonl.zzzz.tmp"
    locked = tmp / ".test_d.jsonl.yyyy.tmp"
    foreign = folder / "notes.tmp"
    for path in (stale, legacy, fresh, locked, foreign):
        path.write_bytes(b"x" * 100)
    for path in (stale, legacy, locked, foreign):
        os.utime(path, (old, old))
    fd = os.open(locked, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a writer still at work
    try:
        save_entries(folder / "test_e.jsonl", [RecordEntry("llm_call")])
    finally:
        os.close(fd)
    assert not stale.exists()
    assert not legacy.exists()
    assert fresh.exists()
    assert locked.exists()
    assert foreign.exists()
    assert (tmp / ".gitignore").read_text().endswith("*\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_never_lists_a_temp_file(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    folder = tmp_path / "tests" / "cassettes"
    save_entries(folder / "test_a.jsonl", [RecordEntry("llm_call")])
    (folder / _jsonl_io.TMP_DIR / ".test_a.jsonl.killed.tmp").write_bytes(b"half a write")
    listed = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert listed.splitlines() == ["?? tests/cassettes/test_a.jsonl"]


def test_locks_are_per_user_so_a_foreign_shared_folder_does_not_block(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shared = tmp_path / "pyagent-trace-locks"  # what an earlier version, run by another user, left
    shared.mkdir(mode=0o555)
    cassette = tmp_path / "c.jsonl"
    write_cassette(cassette, [RecordEntry("llm_call")], keep_existing=False, recorded_by=None)
    mine = tmp_path / f"pyagent-trace-locks-{os.getuid()}"
    assert (mine.stat().st_mode & 0o777) == 0o700
    assert len(list(mine.glob("*.lock"))) == 1
    assert list(shared.iterdir()) == []
    assert len(load_entries(cassette)) == 1


def test_a_lock_folder_that_is_not_ours_is_a_clear_error_and_the_calls_are_rescued(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / f"pyagent-trace-locks-{os.getuid()}").write_text("planted")
    with pytest.raises(CassetteWriteError, match=r"Lock folder .* is not a folder of yours") as caught:
        write_cassette(tmp_path / "c.jsonl", [RecordEntry("llm_call")], keep_existing=False, recorded_by=None)
    assert Path(caught.value.rescued or "").exists()
