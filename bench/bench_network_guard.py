"""What the in-process network guard costs a replaying test, before and now, and what a
send + receive on a loopback socket (fake servers) pays with its patches in place.

Run: .venv/bin/python bench/bench_network_guard.py [ROUNDS]     (default 15 rounds)

Per test, over a run of CYCLES replaying tests (``blocker.active()`` around nothing, as
the plugin does around a test), in one process, interleaved round by round:

* ``before``: the guard of commit 0e5b18b, read from git, which installed and removed its
  14 patches around every test;
* ``now``: the patches installed at the first test and left to linger (as the plugin
  does), each test switching the block on and off; released at the end of the run, so the
  one install and removal are counted too (spread over the run);
* ``now, after an unguarded test``: installed and removed (what a replaying test pays when
  the test before it had no block: the plugin releases the patches for such a test).

An empty loop of CYCLES is subtracted from each. Medians of the rounds; the ratio is the
median of the per-round ratios.

Then ROUND_TRIPS loopback ``send`` + ``recv``, each variant paired with no patch at all:
the block on (what a fake server's traffic pays in a replaying test), and the patches in
place with the block off (what they cost while they linger between tests).
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _timing import median_seconds, paired_medians

from pytest_pyagent_trace._network import NetworkBlocker
from pytest_pyagent_trace._network_guard import GUARD

ROOT = Path(__file__).resolve().parents[1]
BEFORE_COMMIT = "0e5b18b"
CYCLES = 500
ROUND_TRIPS = 5000


def old_network() -> Any:
    """The guard as it was before (installed per test), or None outside a git checkout."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE_COMMIT}:pytest_pyagent_trace/_network.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("network_before")
    sys.modules["network_before"] = module
    exec(compile(source, "network_before.py", "exec"), module.__dict__)
    return module


def per_cycle_us(func: Callable[[], object]) -> float:
    return median_seconds(func, 1) / CYCLES * 1e6  # garbage collected first


def cycles(blocker: Any, linger: bool) -> Callable[[], None]:
    def run() -> None:
        GUARD.linger = linger
        for _ in range(CYCLES):
            with blocker.active():
                pass
        GUARD.linger = False
        GUARD.release()

    return run


def nothing() -> None:
    for _ in range(CYCLES):
        pass


def per_test(rounds: int) -> None:
    old = old_network()
    variants: dict[str, Callable[[], None]] = {}
    if old is not None:
        variants[f"before ({BEFORE_COMMIT}: install + remove per test)"] = cycles(old.NetworkBlocker(lambda: ""), False)
    blocker = NetworkBlocker(lambda: "")
    variants["now (installed once, switched on + off)"] = cycles(blocker, True)
    variants["now, after an unguarded test (install + remove)"] = cycles(blocker, False)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    installs: dict[str, int] = {}
    for _ in range(rounds):
        floor = per_cycle_us(nothing)
        for name, run in variants.items():
            before = GUARD.installs
            samples[name].append(per_cycle_us(run) - floor)
            installs[name] = GUARD.installs - before
    names = list(variants)
    print(f"per replaying test, a run of {CYCLES} ({rounds} interleaved rounds, medians):")
    for name in names:
        line = f"  {name}: {statistics.median(samples[name]):.2f} µs"
        if name.startswith("now"):
            line += f", {installs[name]} install(s) a run"
        if old is not None and name != names[0]:
            ratio = statistics.median(b / n for b, n in zip(samples[names[0]], samples[name], strict=True))
            line += f"  (before / this: x{ratio:.1f})"
        print(line)


def round_trips(rounds: int) -> None:
    """Loopback send + receive: no patch, patches in place with the block off, block on."""
    blocker = NetworkBlocker(lambda: "")
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()) as client:
        peer, _ = server.accept()
        with peer:

            def plain() -> None:
                for _ in range(ROUND_TRIPS):
                    client.send(b"x")
                    peer.recv(16)

            def off() -> None:
                GUARD.linger = True
                with blocker.active():  # installs; the loop runs with the block off
                    pass
                plain()
                GUARD.linger = False
                GUARD.release()

            def guarded() -> None:
                with blocker.active():
                    plain()

            on_s, plain_s, on_ratio = paired_medians(guarded, plain, repeats=rounds)
            off_s, plain2_s, off_ratio = paired_medians(off, plain, repeats=rounds)
    us = 1e6 / ROUND_TRIPS
    print(
        f"loopback send+recv: {plain_s * us:.2f} µs plain, {on_s * us:.2f} µs guarded (x{on_ratio:.2f}); "
        f"{plain2_s * us:.2f} µs plain, {off_s * us:.2f} µs patches in place, block off (x{off_ratio:.2f})"
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    per_test(count)
    round_trips(count)
