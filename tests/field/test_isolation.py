"""The network block stays inside cassette tests that replay, unless the user asks for
more (`--block-network`, or the ini key)."""

from __future__ import annotations

import pytest
from field_project import BASE_ADDOPTS

LOOKUP = """
import socket

import pytest
from pyagent_trace.exceptions import NetworkBlockedError


def lookup():
    return socket.getaddrinfo("db.invalid", 5432)


def os_error_only():
    with pytest.raises(OSError) as info:
        lookup()
    assert type(info.value) is socket.gaierror, repr(info.value)
"""

ONLY_IN_REPLAY = (
    LOOKUP
    + """

def test_plain():
    os_error_only()


def test_cost_tracker_only(cost_tracker):
    os_error_only()


@pytest.mark.cassette(record_mode="new")
def test_recording_cassette(cassette):
    os_error_only()


@pytest.mark.cassette
def test_replaying_cassette(cassette):
    with pytest.raises(NetworkBlockedError, match="db.invalid"):
        lookup()


def test_plain_after():
    os_error_only()
"""
)


def test_the_network_is_blocked_only_in_cassette_tests_that_replay(field):
    """In plain `pytest`, only a replaying cassette test gets NetworkBlockedError; other tests, even a recording one,
    see the OS's own DNS error."""
    field.configure()
    field.write("test_net.py", ONLY_IN_REPLAY)
    result = field.pytest()
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 5}, result
    assert "1 network connections refused" in result.stdout, result
    assert "refused connections to: db.invalid:5432" in result.stdout, result


BLOCK_ALL = (
    LOOKUP
    + """

def test_plain_is_blocked():
    with pytest.raises(NetworkBlockedError, match="db.invalid"):
        lookup()


def test_loopback_stays_open():
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname(), timeout=5):
            pass


@pytest.mark.cassette(record_mode="new")
def test_recording_cassette_is_not_blocked(cassette):
    os_error_only()
"""
)


@pytest.mark.parametrize(
    ("addopts", "config"),
    [
        pytest.param(f"{BASE_ADDOPTS} -p no:recording --block-network", (), id="our-block-network-flag"),
        pytest.param(BASE_ADDOPTS, ("pyagent_trace_block_network = true",), id="ini-with-pytest-recording"),
    ],
)
def test_blocking_every_test_spares_loopback_and_tests_that_record(field, addopts, config):
    """Our `--block-network` (pytest-recording absent) or `pyagent_trace_block_network = true` blocks every test except
    loopback and tests that record."""
    field.configure(*config, addopts=addopts)
    field.write("test_net.py", BLOCK_ALL)
    result = field.pytest()
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 3}, result
    assert "refused connections to: db.invalid:5432" in result.stdout, result


def test_block_network_with_pytest_recording_is_pytest_recordings_and_blocks_cassette_tests_too(field):
    """With pytest-recording loaded, `--block-network` is its flag (as the README says): it refuses connections in
    plain tests and in cassette tests, recording ones included."""
    field.configure()
    field.write(
        "test_net.py",
        """
        import socket

        import pytest


        def refused_by_pytest_recording():
            with pytest.raises(RuntimeError, match="Network is disabled"):
                socket.create_connection(("192.0.2.1", 80), timeout=1)


        def test_plain():
            refused_by_pytest_recording()


        @pytest.mark.cassette(record_mode="new")
        def test_recording_cassette(cassette):
            refused_by_pytest_recording()
        """,
    )
    result = field.pytest("--block-network")
    assert result.ret == 0, result
    assert result.outcomes() == {"passed": 2}, result
    assert "INTERNALERROR" not in result.output, result
