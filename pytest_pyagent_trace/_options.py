"""The plugin's command-line options and ini keys, and how they live beside pytest-recording.

pytest-recording declares ``--record-mode`` and ``--block-network`` too. Two plugins may
not declare one flag (argparse refuses it and pytest cannot start), so when
pytest-recording is loaded, or about to be, we make sure it loads first, declare neither
flag ourselves, and read its ones: one ``--record-mode`` drives both plugins. Its choices
gain our spellings (``new``), which ``pytest_configure`` translates back for it. Our
``check`` (live calls compared with our cassettes, nothing written) has no vcrpy
equivalent, as every vcrpy mode that calls live also writes: pytest-recording gets
``none``, so its ``@pytest.mark.vcr`` tests replay and their cassettes stay untouched.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import shlex

import pytest

from pytest_pyagent_trace._settings import RECORDING_ALIASES, RecordMode

__all__ = [
    "HTTP_INI",
    "add_options",
    "block_network_option",
    "has_recording",
    "record_mode_option",
    "recording_loaded",
    "translate_for_recording",
]

RECORDING = "recording"  # pytest-recording's entry-point name
RECORDING_MODULE = "pytest_recording.plugin"  # its name when loaded by module (PYTEST_PLUGINS, conftest)
HTTP_INI = {
    "pyagent_trace_scrub_headers": "More headers to redact in HTTP cassettes (Authorization, API keys, cookies are).",
    "pyagent_trace_scrub_query": "More query parameters to redact in HTTP cassettes (key=, token=… are).",
    "pyagent_trace_scrub_body_paths": "JSON body paths to redact in HTTP cassettes, e.g. auth.token, items.*.secret.",
    "pyagent_trace_scrub_fields": "More JSON field names to redact at any depth (api_key, password, token… are).",
    "pyagent_trace_ignore_hosts": "More background traffic, never recorded nor replayed (host, host:port, "
    ".domain or host/path/part), besides the built-in telemetry and framework endpoints.",
}
_MODE_HELP = (
    "none: replay only (default); once: record missing cassettes; new: record missing calls; all: re-record "
    "everything; check: call live and report drift from the cassettes, writing nothing."
)
_STAND_INS_FOR_RECORDING = {"check": "none"}
"""Our modes pytest-recording has no word for, and what it gets instead."""


def has_recording(pluginmanager: pytest.PytestPluginManager) -> bool:
    return pluginmanager.has_plugin(RECORDING) or pluginmanager.has_plugin(RECORDING_MODULE)


def _recording_installed(pluginmanager: pytest.PytestPluginManager, name: str) -> bool:
    """pytest-recording can be imported and is not refused under ``name`` (``-p no:…``)."""
    return not pluginmanager.is_blocked(name) and importlib.util.find_spec("pytest_recording") is not None


def _named_by_entry_point(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether pytest is about to load pytest-recording by its entry-point name: autoload
    is on, or ``-p recording`` is among the arguments (command line, PYTEST_ADDOPTS, ini
    addopts)."""
    if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return True
    config = pluginmanager.get_plugin("pytestconfig")
    args = [str(a) for a in getattr(getattr(config, "invocation_params", None), "args", ())]
    args += shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    with contextlib.suppress(ValueError, KeyError):  # no ini read yet
        args += [str(a) for a in config.getini("addopts")] if config is not None else []
    pairs = itertools.pairwise(args)  # (flag, value) for every neighbouring pair
    return any(a == "-p" and b == RECORDING for a, b in pairs) or f"-p{RECORDING}" in args


def recording_loaded(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Load pytest-recording now if pytest is going to load it by its entry point anyway,
    so its flags exist before ours are declared, whichever plugin pytest loaded first."""
    if has_recording(pluginmanager):
        return True
    if not (_recording_installed(pluginmanager, RECORDING) and _named_by_entry_point(pluginmanager)):
        return False
    pluginmanager.load_setuptools_entrypoints("pytest11", name=RECORDING)
    return has_recording(pluginmanager)


class _RecordingArrivesLater:
    """Registered when pytest-recording may still be loaded by module name after us
    (``PYTEST_PLUGINS``, a conftest's ``pytest_plugins``), which cannot be known in advance.
    Until then argparse resolves the clash of flags instead of refusing to start: its
    ``--record-mode`` replaces ours, and gains our choices when it arrives."""

    def __init__(self, parser: pytest.Parser) -> None:
        self._parser = parser
        parser.optparser.conflict_handler = "resolve"

    def pytest_plugin_registered(self, plugin: object, plugin_name: str) -> None:
        if plugin_name in (RECORDING, RECORDING_MODULE):
            _accept_our_modes(self._parser)
            self._parser.optparser.conflict_handler = "error"

    def pytest_configure(self) -> None:
        self._parser.optparser.conflict_handler = "error"


def _accept_our_modes(parser: pytest.Parser) -> None:
    """pytest-recording's ``--record-mode`` choices plus ours, so ``--record-mode=new``
    means the same with or without it installed."""
    for option in parser.getgroup(RECORDING).options:
        if "--record-mode" in option.names():
            attrs = option.attrs()  # the argparse action's attributes, changed in place
            choices = list(attrs.get("choices") or ())
            attrs["choices"] = [*choices, *(m.value for m in RecordMode if m.value not in choices)]


def record_mode_option(config: pytest.Config) -> str | None:
    """``--record-mode``'s value, pytest-recording's flag or ours."""
    value = getattr(config.option, "record_mode", None) or getattr(config.option, "pyagent_trace_record_mode", None)
    return None if value is None else str(value)


def block_network_option(config: pytest.Config) -> bool:
    """Our ``--block-network`` (pytest-recording's, when it is loaded, blocks by itself)."""
    return bool(getattr(config.option, "pyagent_trace_block_network", False)) and not has_recording(
        config.pluginmanager
    )


def translate_for_recording(config: pytest.Config) -> None:
    """Give pytest-recording the mode in its own words (``new`` → ``new_episodes``), and
    let ``--record`` / ``--replay`` drive it too."""
    ours_to_theirs = {ours: theirs for theirs, ours in RECORDING_ALIASES.items()} | _STAND_INS_FOR_RECORDING
    mode = record_mode_option(config)
    if mode is None and config.option.pyagent_trace_record:
        mode = "rewrite"
    elif mode is None and config.option.pyagent_trace_replay:
        mode = "none"
    if mode is not None:
        config.option.record_mode = ours_to_theirs.get(mode, mode)


def add_options(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("pyagent-trace", "pyagent-trace: record/replay LLM calls, cost budgets, span assertions")
    if recording_loaded(pluginmanager):
        _accept_our_modes(parser)
    else:  # the same flags as pytest-recording's, so suites can move between the two
        if _recording_installed(pluginmanager, RECORDING_MODULE):
            pluginmanager.register(_RecordingArrivesLater(parser), "pyagent_trace_recording_later")
        group.addoption(
            "--record-mode",
            dest="pyagent_trace_record_mode",
            choices=[m.value for m in RecordMode],
            default=None,
            help=_MODE_HELP,
        )
        group.addoption(
            "--block-network",
            dest="pyagent_trace_block_network",
            action="store_true",
            default=False,
            help="Block network access in every test, not only in cassette tests that replay.",
        )
    group.addoption(
        "--record",
        dest="pyagent_trace_record",
        action="store_true",
        default=False,
        help="Re-record every cassette (short for --record-mode=all). Spends real money.",
    )
    group.addoption(
        "--replay",
        dest="pyagent_trace_replay",
        action="store_true",
        default=False,
        help="Replay only, never call an LLM (short for --record-mode=none).",
    )
    group.addoption(
        "--allow-network",
        dest="pyagent_trace_allow_network",
        action="store_true",
        default=False,
        help="Do not block outbound network connections in cassette tests that replay.",
    )
    group.addoption(
        "--isolate-network",
        dest="pyagent_trace_isolate_network",
        action="store_true",
        default=False,
        help="Linux: run the session in a network namespace with loopback only (child processes and C code included).",
    )
    group.addoption(
        "--strict-cassettes",
        dest="pyagent_trace_strict",
        action="store_true",
        default=False,
        help="Fail on recorded calls a test never used and on cassettes no collected test uses.",
    )
    group.addoption(
        "--cost-report",
        dest="pyagent_trace_cost_report",
        default=None,
        metavar="PATH",
        help="Write the run's cost and cassette summary as JSON to PATH.",
    )
    parser.addini("pyagent_trace_record_mode", "Default record mode (none, once, new, all, check).", default="none")
    parser.addini(
        "pyagent_trace_drift_fail",
        "In record mode check, fail a test whose calls drifted: none (report only, default), calls, text.",
        default="none",
    )
    parser.addini(
        "pyagent_trace_cost_regression",
        "Fail a re-recorded or checked test whose cost or tokens grow more than this ratio (e.g. 1.2).",
    )
    parser.addini("pyagent_trace_cassette_dir", "One folder for all cassettes, relative to the rootdir.")
    parser.addini("pyagent_trace_match", "How replay finds a call: messages (default) or order.", default="messages")
    parser.addini(
        "pyagent_trace_block_network", "Block network access in every test (like --block-network).", type="bool"
    )
    parser.addini(
        "pyagent_trace_isolate_network", "Run the session with loopback only (like --isolate-network).", type="bool"
    )
    parser.addini(
        "pyagent_trace_allowed_hosts", "Hosts reachable in replay mode besides loopback.", type="linelist", default=[]
    )
    for name, what in HTTP_INI.items():
        parser.addini(name, what, type="linelist", default=[])
