"""Process exit with a dead backend: bounded by PYAGENT_TRACE_EXPORT_SHUTDOWN_TIMEOUT, one
line says what was dropped. The child runs its own black hole (accepts, never answers) or
takes a port nothing listens on; the wall time is measured from its last line to its exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

TIMEOUT = 0.5
MARGIN = 1.0

CHILD = textwrap.dedent(
    """
    import socket, sys, threading
    mode, protocol = sys.argv[1], sys.argv[2]
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    if mode == "refused":
        server.close()
    else:
        kept = []
        threading.Thread(target=lambda: [kept.append(server.accept()) for _ in iter(int, 1)], daemon=True).start()
    from pyagent_trace.exporters.otlp import otlp_tracer_provider
    tracer = otlp_tracer_provider(f"http://127.0.0.1:{port}", protocol=protocol).get_tracer("t")
    for _ in range(5):
        tracer.start_span("s").end()
    print("exiting", flush=True)
    """
)


@pytest.mark.parametrize(("mode", "protocol"), [("blackhole", "http/protobuf"), ("refused", "grpc")])
def test_exit_waits_at_most_the_shutdown_timeout_for_a_dead_backend(mode, protocol):
    env = {**os.environ, "PYAGENT_TRACE_EXPORT_SHUTDOWN_TIMEOUT": str(TIMEOUT)}
    command = [sys.executable, "-c", CHILD, mode, protocol]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    assert child.stdout.readline() == "exiting\n"
    started = time.monotonic()
    _, stderr = child.communicate(timeout=30)
    took = time.monotonic() - started

    assert child.returncode == 0, stderr
    assert took < TIMEOUT + MARGIN, f"exit took {took:.2f} s"
    dropped = [line for line in stderr.splitlines() if "were not delivered at shutdown" in line]
    assert len(dropped) == 1, stderr
    assert dropped[0].startswith("pyagent-trace: 5 of 5 span(s) for OTLP http://127.0.0.1:")
