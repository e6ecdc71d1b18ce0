"""Where a connection, a proxy request or a gRPC target would go: the parsing the network
guard's checks decide with, kept apart from the patches that call them.

Loopback (``localhost``, ``localhost.``, ``127.0.0.0/8``, ``::1``, ``::ffff:127.0.0.1``,
the unspecified address) is ``is_loopback`` of the HTTP layer, shared with it.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pyagent_trace.http._background import is_loopback

__all__ = ["grpc_target_host", "grpc_target_hosts", "is_ip", "is_loopback", "port_number", "proxy_target"]

_HTTP_PROXY = re.compile(
    rb"(?:CONNECT (\[[^\]\s]+\]|[^\s:/]+)|[A-Z]+ [a-zA-Z][a-zA-Z0-9+.-]*://(\[[^\]\s]+\]|[^\s:/?#@]+))"
)


def proxy_target(data: bytes) -> str | None:
    """The host an HTTP or SOCKS proxy request asks for, or None if ``data`` is not one."""
    if data[:2] == b"\x04\x01" and len(data) >= 9:  # SOCKS4(a): port, IPv4, user id\0 [, host\0]
        address = ipaddress.IPv4Address(data[4:8])
        if str(address).startswith("0.0.0.") and address != ipaddress.IPv4Address(0):  # SOCKS4a
            rest = data[8:].split(b"\x00")
            return rest[1].decode("ascii", "replace") if len(rest) > 1 else None
        return str(address)
    if data[:3] == b"\x05\x01\x00" and len(data) >= 5:  # SOCKS5 CONNECT
        kind = data[3]
        if kind == 1 and len(data) >= 8:
            return str(ipaddress.IPv4Address(data[4:8]))
        if kind == 3:
            return data[5 : 5 + data[4]].decode("ascii", "replace")
        if kind == 4 and len(data) >= 20:
            return str(ipaddress.IPv6Address(data[4:20]))
        return None
    found = _HTTP_PROXY.match(data)
    if found is None:
        return None
    return (found.group(1) or found.group(2)).decode("ascii", "replace")


def grpc_target_host(target: str) -> str | None:
    """The host of a gRPC target (``host:port``, ``dns:///host:port``, ``ipv4:a.b.c.d:port``,
    ``ipv6:[::1]:port``); None for a Unix socket."""
    scheme, _, rest = target.partition(":")
    scheme = scheme.lower()
    if scheme in ("unix", "unix-abstract", "vsock"):
        return None
    if scheme == "dns":  # dns:host:port, dns:///host:port, dns://authority/host:port
        rest = rest[2:].split("/", 1)[-1] if rest.startswith("//") else rest
    elif scheme in ("ipv4", "ipv6"):
        rest = rest.split(",")[0]
    else:
        rest = target
    if rest.startswith("["):
        return rest[1:].split("]")[0]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def grpc_target_hosts(text: str) -> list[str | None]:
    """The hosts of a gRPC target, one per address: ``ipv4:a:1,b:2`` lists several."""
    scheme, _, rest = text.partition(":")
    targets = [f"{scheme}:{one}" for one in rest.split(",")] if scheme in ("ipv4", "ipv6") else [text]
    return [grpc_target_host(one) for one in targets]


def port_number(port: Any) -> Any:
    """getaddrinfo's port (an int, a numeric string, a service name or None) as an int if it is one."""
    if port is None:
        return None
    text = port.decode() if isinstance(port, bytes) else str(port)
    return int(text) if text.isdigit() else port


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
