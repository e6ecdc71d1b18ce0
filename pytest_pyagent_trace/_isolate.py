"""``--isolate-network``: run the pytest session in a network namespace that has loopback only.

The in-process block (``_network``) sees only what Python code does through ``socket``,
``ssl`` and gRPC. Child processes (``subprocess``, ``multiprocessing`` spawn), C libraries
and ctypes open their own sockets. On Linux an unprivileged process can get a network
namespace of its own (a user namespace makes it allowed): there, the only interface is
``lo``, so nothing the session starts can reach another host, whatever language it is
written in. Fake servers on 127.0.0.1 keep working: they start inside too.

How: fork, and in the child ``unshare(CLONE_NEWUSER | CLONE_NEWNET)``, map our own uid/gid
(we stay who we are, never root), bring ``lo`` up, and exec the same command line; the
parent waits and exits with the child's status. The re-run session finds itself isolated
(only ``lo``) and goes on.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import struct
import sys
from collections.abc import Sequence

import pytest

__all__ = ["isolate", "isolate_session", "isolated"]

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_SIOCSIFFLAGS = 0x8914
_IFF_UP_LOOPBACK_RUNNING = 0x1 | 0x8 | 0x40
_MARK = "PYAGENT_TRACE_ISOLATED"
"""Set in the re-run session: it must find itself isolated, never re-run again."""


def isolated() -> bool:
    """Whether this process sees no network interface but loopback."""
    try:
        names = {name for _, name in socket.if_nameindex()}
    except OSError:
        return False
    return names <= {"lo"}


def isolate_session(config: pytest.Config) -> None:
    """Re-run the session isolated (never returns), or stop it with a one-line usage error."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:  # the re-run session writes to the terminal, not to pytest's capture
        capture.suspend_global_capture(in_=True)
    error = isolate(config.invocation_params.args)
    if capture is not None:
        capture.resume_global_capture()
    if error:
        raise pytest.UsageError(error)


def isolate(args: Sequence[str]) -> str | None:
    """Re-run this session in a fresh network namespace; return only with a one-line error
    (or None when already isolated). On success the process exits with the session's status."""
    if isolated():
        return None
    if os.environ.get(_MARK):
        return "--isolate-network: the re-run session still sees network interfaces besides lo; isolation failed."
    if not sys.platform.startswith("linux"):
        return (
            f"--isolate-network needs Linux network namespaces; this platform is {sys.platform}. Run without it "
            "(the in-process block still applies) or in a container without network (docker run --network=none)."
        )
    if list(args) != sys.argv[1:]:
        return "--isolate-network re-runs the command line: use it with `pytest …`, not from pytest.main()."
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child execs or exits
        os.close(read_end)
        try:
            _enter_namespace()
            os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, _MARK: "1"})
        except BaseException as err:  # never let the forked child run on as a second session
            os.write(write_end, (str(err) or type(err).__name__).encode())
        os._exit(70)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:  # EOF: the child exec'd (the pipe closes on exec) or failed
        failure = pipe.read().decode(errors="replace")
    if failure:
        os.waitpid(pid, 0)
        return (
            f"--isolate-network: cannot create a network namespace here ({failure}); unprivileged user "
            "namespaces may be off (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, "
            "kernel.apparmor_restrict_unprivileged_userns) or forbidden by a container's seccomp profile."
        )
    _wait_and_exit(pid)
    return None  # pragma: no cover - _wait_and_exit never returns


def _enter_namespace() -> None:
    """In the forked child: a user and network namespace of our own, ``lo`` up."""
    import fcntl

    uid, gid = os.geteuid(), os.getegid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"unshare: {os.strerror(number)}")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w", encoding="ascii") as file:
            file.write(text)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", _IFF_UP_LOOPBACK_RUNNING))


def _wait_and_exit(pid: int) -> None:
    """The parent: wait for the isolated session (Ctrl-C reaches it directly) and exit as it did."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ValueError):  # forward a CI's SIGTERM
        signal.signal(signal.SIGTERM, lambda signum, _frame: os.kill(pid, signum))
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries already
            continue
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)
