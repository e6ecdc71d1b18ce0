"""The plugin's command-line options and ini keys, and how they live beside pytest-recording.

pytest-recording declares ``--record-mode`` and ``--block-network`` too. Two plugins may
not declare one flag (argparse refuses it and pytest cannot start), so when
pytest-recording is loaded, or about to be, we make sure it loads first, declare neither
flag ourselves, and read its ones: one ``--record-mode`` drives both plugins. Its choices
gain our spellings (``new``), which ``pytest_configure`` translates back for it.
"""

from __future__ import annotations

import importlib.util
import os
import shlex

import pytest

from pytest_pyagent_trace._settings import RECORDING_ALIASES, RecordMode

__all__ = ["HTTP_INI", "RECORDING", "add_options", "recording_loaded", "translate_for_recording"]

RECORDING = "recording"  # pytest-recording's entry-point name
HTTP_INI = {
    "pyagent_trace_scrub_headers": "More headers to redact in HTTP cassettes (Authorization, API keys, cookies are).",
    "pyagent_trace_scrub_query": "More query parameters to redact in HTTP cassettes (key=, token=… are).",
    "pyagent_trace_scrub_body_paths": "JSON body paths to redact in HTTP cassettes, e.g. auth.token, items.*.secret.",
    "pyagent_trace_ignore_hosts": "Hosts (or host:port) whose HTTP traffic is never recorded nor replayed.",
}
_MODE_HELP = (
    "none: replay only (default); once: record missing cassettes; new: record missing calls; all: re-record everything."
)


def _recording_requested(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether pytest will load pytest-recording in this run (installed, not ``-p no:``-ed,
    and autoloaded or asked for with ``-p recording``)."""
    if pluginmanager.is_blocked(RECORDING) or importlib.util.find_spec("pytest_recording") is None:
        return False
    if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return True
    config = pluginmanager.get_plugin("pytestconfig")
    args = [str(a) for a in getattr(getattr(config, "invocation_params", None), "args", ())]
    args += shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    pairs = zip(args, [*args[1:], ""], strict=True)
    return any(a == "-p" and b in (RECORDING, "pytest_recording.plugin") for a, b in pairs) or any(
        a in (f"-p{RECORDING}", "-ppytest_recording.plugin") for a in args
    )


def recording_loaded(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Load pytest-recording now if pytest is going to load it anyway, so its flags exist
    before ours are declared, whichever plugin pytest happened to load first."""
    if pluginmanager.has_plugin(RECORDING):
        return True
    if not _recording_requested(pluginmanager):
        return False
    pluginmanager.load_setuptools_entrypoints("pytest11", name=RECORDING)
    return pluginmanager.has_plugin(RECORDING)


def _accept_our_modes(parser: pytest.Parser) -> None:
    """pytest-recording's ``--record-mode`` choices plus ours, so ``--record-mode=new``
    means the same with or without it installed."""
    for option in parser.getgroup(RECORDING).options:
        if "--record-mode" in option.names():
            attrs = option.attrs()  # the argparse action's attributes, changed in place
            choices = list(attrs.get("choices") or ())
            attrs["choices"] = [*choices, *(m.value for m in RecordMode if m.value not in choices)]


def translate_for_recording(config: pytest.Config) -> None:
    """Give pytest-recording the mode in its own words (``new`` → ``new_episodes``), and
    let ``--record`` / ``--replay`` drive it too."""
    ours_to_theirs = {ours: theirs for theirs, ours in RECORDING_ALIASES.items()}
    mode = config.option.record_mode
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
    else:  # the same flags and dests as pytest-recording's, so suites can move between the two
        group.addoption(
            "--record-mode", dest="record_mode", choices=[m.value for m in RecordMode], default=None, help=_MODE_HELP
        )
        group.addoption(
            "--block-network",
            dest="block_network",
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
    parser.addini("pyagent_trace_record_mode", "Default record mode (none, once, new, all).", default="none")
    parser.addini("pyagent_trace_cassette_dir", "One folder for all cassettes, relative to the rootdir.")
    parser.addini("pyagent_trace_match", "How replay finds a call: messages (default) or order.", default="messages")
    parser.addini(
        "pyagent_trace_block_network", "Block network access in every test (like --block-network).", type="bool"
    )
    parser.addini(
        "pyagent_trace_allowed_hosts", "Hosts reachable in replay mode besides loopback.", type="linelist", default=[]
    )
    for name, what in HTTP_INI.items():
        parser.addini(name, what, type="linelist", default=[])
