"""What the in-process network guard costs a replaying test: installing and removing it
(once per test), and a send + receive on a loopback socket while it is on (fake servers).

Run: .venv/bin/python bench/bench_network_guard.py
"""

from __future__ import annotations

import socket

from _timing import paired_medians

from pytest_pyagent_trace._network import NetworkBlocker

CYCLES = 500
ROUND_TRIPS = 5000


def main() -> None:
    blocker = NetworkBlocker(lambda: "")

    def install_cycles() -> None:
        for _ in range(CYCLES):
            with blocker.active():
                pass

    def nothing() -> None:
        for _ in range(CYCLES):
            pass

    ours, floor, _ = paired_medians(install_cycles, nothing, repeats=15)
    print(f"install + remove: {(ours - floor) / CYCLES * 1e6:.1f} µs per test")

    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()) as client:
        peer, _ = server.accept()
        with peer:

            def round_trips() -> None:
                for _ in range(ROUND_TRIPS):
                    client.send(b"x")
                    peer.recv(16)

            def guarded() -> None:
                with blocker.active():
                    round_trips()

            ours, floor, ratio = paired_medians(guarded, round_trips, repeats=15)
    print(
        f"loopback send+recv: {floor / ROUND_TRIPS * 1e6:.2f} µs plain, {ours / ROUND_TRIPS * 1e6:.2f} µs guarded "
        f"(x{ratio:.2f})"
    )


if __name__ == "__main__":
    main()
