"""A cassette test that replays cannot reach the network: every outbound connection is
refused, naming the host and how to record; loopback stays reachable. Tests that use
none of the plugin are left alone unless the run asks for --block-network.

No test here needs a network: refused names never reach DNS, and the "allowed" checks
resolve numeric addresses, which getaddrinfo answers locally.
"""

from __future__ import annotations

import pytest
from plugin_testing import INNER_FLAGS, run, run_subprocess, write_ini

RESOLVE_NUMERIC = """
    import socket
    import pytest

    @pytest.mark.cassette
    def test_resolve():
        assert socket.getaddrinfo("192.0.2.1", 443)
"""
UNMARKED = """
    import socket

    def test_plain():
        assert socket.getaddrinfo("192.0.2.1", 443)
"""


def test_a_replaying_cassette_test_reaching_a_host_fails_naming_it_and_how_to_record(project):
    """The error says which host and what to run."""
    project.makepyfile(
        test_api="""
        import socket
        import pytest

        @pytest.mark.cassette
        def test_calls_openai():
            socket.create_connection(("api.openai.com", 443), timeout=1)
        """
    )

    result = run(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '>*socket.create_connection(("api.openai.com", 443), timeout=1)',
            "*NetworkBlockedError: pyagent-trace blocked a network connection to api.openai.com:443. "
            "Test test_api.py::test_calls_openai replays its cassette (record mode 'none')*"
            "Record with: pytest --record-mode=once test_api.py::test_calls_openai*--allow-network*",
        ]
    )
    result.stdout.no_fnmatch_line("*_network.py*")


def test_a_test_that_uses_nothing_of_the_plugin_gets_the_operating_systems_answer(project):
    """No patch outside cassette tests: a lookup of an invalid name fails as it would without us."""
    project.makepyfile(
        test_db="""
        import socket
        import pytest

        def test_database_host():
            with pytest.raises(socket.gaierror):
                socket.getaddrinfo("db.invalid", 5432)
            assert socket.getaddrinfo.__module__ == "socket"
        """
    )

    run(project).assert_outcomes(passed=1)


def test_the_guard_is_installed_once_for_a_run_of_replaying_tests_and_gone_for_other_tests(project):
    """Consecutive replaying tests share one install of the socket patches (each switches the
    block on and off); a test without the block, and the code after the session, see the originals."""
    import socket

    project.makepyfile(
        test_order="""
        import socket
        import pytest

        CONNECT = socket.socket.connect
        INSTALLS = []

        def installs():
            from pytest_pyagent_trace._network_guard import GUARD
            return GUARD.installs

        @pytest.mark.parametrize("n", range(3))
        @pytest.mark.cassette
        def test_replays(n):
            INSTALLS.append(installs())
            assert socket.socket.connect is not CONNECT
            with pytest.raises(ConnectionError, match="192.0.2.1"):
                socket.getaddrinfo("192.0.2.1", 443)
            assert len(set(INSTALLS)) == 1

        def test_plain():
            assert socket.socket.connect is CONNECT
            assert socket.getaddrinfo("192.0.2.1", 443)

        @pytest.mark.cassette
        def test_replays_again():
            assert installs() == INSTALLS[0] + 1
        """
    )
    real = (socket.socket.connect, socket.getaddrinfo)

    run(project, "-p", "no:randomly").assert_outcomes(passed=5)
    assert (socket.socket.connect, socket.getaddrinfo) == real


def test_block_network_blocks_every_test_that_does_not_record(project):
    """--block-network (ours when pytest-recording is absent) and the ini key block unmarked tests too."""
    project.makepyfile(test_api=UNMARKED)

    run(project, "-p", "no:recording", "--block-network").assert_outcomes(failed=1)
    write_ini(project, "pyagent_trace_block_network = true")
    run(project).assert_outcomes(failed=1)
    run(project, "--allow-network").assert_outcomes(passed=1)


def test_asyncio_clients_are_refused_too(project):
    """An async client (asyncio resolves names in a worker thread) gets the same error naming the host."""
    project.makepyfile(
        test_api="""
        import asyncio
        import pytest
        from pyagent_trace.exceptions import NetworkBlockedError

        @pytest.mark.cassette
        async def test_async_client():
            with pytest.raises(NetworkBlockedError, match="api.anthropic.com:443"):
                await asyncio.open_connection("api.anthropic.com", 443)
        """
    )

    run(project).assert_outcomes(passed=1)


def test_connect_to_an_ip_address_is_refused(project):
    """A connect() straight to an IP address (no name lookup) is refused too."""
    project.makepyfile(
        test_api="""
        import socket
        import pytest
        from pyagent_trace.exceptions import NetworkBlockedError

        @pytest.mark.cassette
        def test_connect():
            with socket.socket() as sock, pytest.raises(NetworkBlockedError, match="192.0.2.1:80"):
                sock.connect(("192.0.2.1", 80))
            with socket.socket() as sock, pytest.raises(NetworkBlockedError, match="192.0.2.1:81"):
                sock.connect_ex(("192.0.2.1", 81))
        """
    )

    run(project).assert_outcomes(passed=1)


def test_loopback_stays_reachable(project):
    """Fake provider servers on 127.0.0.1 / localhost keep working while replaying."""
    project.makepyfile(
        test_local="""
        import socket
        import pytest

        @pytest.mark.cassette
        def test_local_server():
            with socket.create_server(("127.0.0.1", 0)) as server:
                port = server.getsockname()[1]
                with socket.create_connection(("localhost", port), timeout=5):
                    conn, _ = server.accept()
                    conn.close()
        """
    )

    run(project).assert_outcomes(passed=1)


def test_allow_network_turns_the_block_off(project):
    """--allow-network leaves sockets alone in mode none."""
    project.makepyfile(test_api=RESOLVE_NUMERIC)

    run(project).assert_outcomes(failed=1)
    run(project, "--allow-network").assert_outcomes(passed=1)


def test_recording_modes_do_not_block(project):
    """A session that records (mode once) needs the real API, so nothing is blocked."""
    project.makepyfile(test_api=RESOLVE_NUMERIC)

    run(project, "--record-mode=once").assert_outcomes(passed=1)


def test_a_test_marked_to_record_may_use_the_network_in_a_replay_session(project):
    """cassette(record_mode="once") lifts the block for that test only."""
    project.makepyfile(
        test_api="""
        import socket
        import pytest

        @pytest.mark.cassette(record_mode="once")
        def test_records():
            assert socket.getaddrinfo("192.0.2.1", 443)

        @pytest.mark.cassette
        def test_replays():
            with pytest.raises(ConnectionError):
                socket.getaddrinfo("192.0.2.1", 443)
        """
    )

    run(project).assert_outcomes(passed=2)


def test_allowed_hosts_ini_lets_named_hosts_through(project):
    """Hosts listed in pyagent_trace_allowed_hosts are reachable in mode none."""
    write_ini(project, "pyagent_trace_allowed_hosts =", "    192.0.2.1")
    project.makepyfile(test_api=RESOLVE_NUMERIC)

    run(project).assert_outcomes(passed=1)


def test_refused_connections_are_counted_in_the_summary(project):
    """The summary counts refused connections, even ones the code caught, and names the hosts."""
    project.makepyfile(
        test_api="""
        import socket
        import pytest

        @pytest.mark.cassette
        def test_tolerant_client():
            for host in ("api.openai.com", "api.anthropic.com"):
                try:
                    socket.getaddrinfo(host, 443)
                except ConnectionError:
                    pass
        """
    )

    result = run(project)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*2 network connections refused",
            "refused connections to: api.anthropic.com:443, api.openai.com:443.*--allow-network.",
        ]
    )


def test_network_in_a_fixture_is_blocked_and_named_for_its_test(project):
    """A connection attempted while setting up a cassette test is refused and attributed to that test."""
    project.makepyfile(
        test_api="""
        import socket
        import pytest

        @pytest.fixture
        def client():
            socket.getaddrinfo("api.openai.com", 443)

        @pytest.mark.cassette
        def test_uses_client(client):
            pass
        """
    )

    result = run(project)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*api.openai.com:443*Test test_api.py::test_uses_client replays its cassette*"])


def test_a_test_without_its_part_of_a_shared_cassette_may_record_in_mode_once(project):
    """Mode once: the shared file exists, but this test's part does not, so it records and is not blocked."""
    project.makepyfile(
        test_shared="""
        import socket
        import pytest

        @pytest.mark.cassette("shared.jsonl", record_mode="once")
        async def test_first(cassette):
            from fake_llm import FakeLLM, ask
            await cassette.llm(FakeLLM(), agent_name="a")(ask("hi"))
        """
    )
    run(project).assert_outcomes(passed=1)
    project.makepyfile(
        test_shared="""
        import socket
        import pytest

        @pytest.mark.cassette("shared.jsonl", record_mode="once")
        async def test_first(cassette):
            from fake_llm import FakeLLM, ask
            await cassette.llm(FakeLLM(), agent_name="a")(ask("hi"))

        @pytest.mark.cassette("shared.jsonl", record_mode="once")
        def test_added():
            assert socket.getaddrinfo("192.0.2.1", 443)
        """
    )

    run(project).assert_outcomes(passed=2)


def test_a_session_wide_block_starts_before_conftest_is_imported(project):
    """A client a conftest builds at import time is already under the block; a test that
    records lifts it for its own run only; the patches are gone after the session."""
    import socket

    write_ini(project, "pyagent_trace_block_network = true")
    project.makeconftest(
        """
        import socket

        try:
            socket.getaddrinfo("api.openai.com", 443)
        except Exception as err:
            AT_IMPORT = type(err).__name__ + ": " + str(err)
        """
    )
    project.makepyfile(
        test_early="""
        import socket
        import pytest
        import conftest

        def test_conftest_was_blocked():
            assert conftest.AT_IMPORT.startswith("NetworkBlockedError: pyagent-trace blocked"), conftest.AT_IMPORT
            assert "The session blocks the network" in conftest.AT_IMPORT

        @pytest.mark.cassette(record_mode="once")
        def test_recording_is_not_blocked():
            assert socket.getaddrinfo("192.0.2.1", 443)

        def test_blocked_again():
            with pytest.raises(ConnectionError, match="192.0.2.1"):
                socket.getaddrinfo("192.0.2.1", 443)
        """
    )
    real = socket.getaddrinfo

    project.runpytest(*INNER_FLAGS).assert_outcomes(passed=3)
    assert socket.getaddrinfo is real


ISOLATED = """
    import errno
    import socket
    import subprocess
    import sys

    CHILD = (
        "import socket\\n"
        "sock = socket.socket()\\n"
        "sock.settimeout(2)\\n"
        "try:\\n"
        "    sock.connect(('10.255.255.1', 80))\\n"
        "except OSError as err:\\n"
        "    print('refused', err.errno)\\n"
        "else:\\n"
        "    print('connected')\\n"
    )

    def try_connect():
        sock = socket.socket()
        sock.settimeout(2)
        try:
            sock.connect(("10.255.255.1", 80))
        except OSError as err:
            return f"refused {err.errno}"
        finally:
            sock.close()
        return "connected"

    def test_a_child_process_cannot_reach_another_host():
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=20).stdout
        assert out.split() == ["refused", str(errno.ENETUNREACH)], out

    def test_a_spawned_process_and_a_ctypes_connect_cannot_either():
        import ctypes
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(1) as pool:
            assert pool.apply(try_connect) == f"refused {errno.ENETUNREACH}"
        libc = ctypes.CDLL(None, use_errno=True)
        sock = socket.socket()
        address = socket.AF_INET.to_bytes(2, sys.byteorder) + (80).to_bytes(2, "big") + socket.inet_aton("10.255.255.1")
        result = libc.connect(sock.fileno(), address + bytes(8), 16)
        sock.close()
        assert (result, ctypes.get_errno()) == (-1, errno.ENETUNREACH)

    def test_loopback_servers_still_work():
        with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()):
            pass
"""


def test_isolate_network_stops_child_processes(project):
    """--isolate-network: the session runs with loopback only, child processes included
    (10.255.255.1 is non-routable: even a failed isolation sends nothing useful)."""
    project.makepyfile(test_iso=ISOLATED)

    result = run_subprocess(project, "--isolate-network")  # it re-executes the session

    if "cannot create a network namespace" in result.stderr.str():
        pytest.skip(result.stderr.str().strip().splitlines()[-1])
    result.assert_outcomes(passed=3)


def test_background_hosts_are_refused_without_counting_as_the_tests_own(project):
    """Built-in background hosts (LiteLLM's price map host, OTLP's port) and the ini's
    pyagent_trace_ignore_hosts entries (space or comma separated) are refused quietly."""
    write_ini(project, "pyagent_trace_ignore_hosts = metrics.example.com, .telemetry.example")
    project.makepyfile(
        test_api="""
        import socket
        import pytest

        @pytest.mark.cassette
        def test_tolerant_client():
            for host, port in [("raw.githubusercontent.com", 443), ("collector", 4317), ("metrics.example.com", 443),
                               ("eu.telemetry.example", 443), ("api.openai.com", 443)]:
                with pytest.raises(ConnectionError):
                    socket.getaddrinfo(host, port)
        """
    )

    result = run(project)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 network connections refused", "refused connections to: api.openai.com:443.*"])
