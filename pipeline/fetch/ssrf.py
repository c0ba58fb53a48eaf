"""SSRF guard: only public addresses are fetched, checked after DNS and again on the connected socket."""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from pipeline.errors import FetchError, Reason

SCHEMES = ("http", "https")


class UnsafeAddress(Exception):
    """Raised inside the connection when the peer address is not a public one."""


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (DNS), or raise FetchError("dns_error")."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}", reason=Reason.DNS_ERROR) from None
    return sorted({str(info[4][0]) for info in infos})


class AddressGuard:
    """Refuses non-http(s) URLs and, unless private networks are allowed, hosts that resolve to
    non-public addresses; a host found safe is remembered for the run."""

    def __init__(self, allow_private_networks: bool) -> None:
        self.allow_private_networks = allow_private_networks
        self._safe: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES or not parts.hostname:
            raise FetchError(f"refusing non-http(s) URL {url!r}", reason=Reason.UNSAFE_URL)
        if self.allow_private_networks:
            return
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise FetchError(f"bad port in {url!r}", reason=Reason.INVALID_URL) from None
        key = (parts.hostname, port)
        with self._lock:
            if key in self._safe:
                return
        for address in resolve_addresses(parts.hostname, port):
            if not is_public_address(address):
                raise FetchError(
                    f"{parts.hostname} resolves to non-public address {address}", reason=Reason.UNSAFE_URL
                )
        with self._lock:
            self._safe.add(key)

    def adapter(self, **kwargs: Any) -> HTTPAdapter:
        """The transport adapter: plain when private networks are allowed, else one that checks the peer."""
        return HTTPAdapter(**kwargs) if self.allow_private_networks else GuardedAdapter(**kwargs)


def check_peer(sock: socket.socket, host: str) -> None:
    """Refuse a connected socket whose peer is not public (DNS rebinding after our own check)."""
    peer = sock.getpeername()[0]
    if not is_public_address(peer):
        sock.close()
        raise UnsafeAddress(f"{host} connected to non-public address {peer}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        check_peer(sock, self.host)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        check_peer(sock, self.host)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """Checks the connected peer address, so DNS rebinding after our own check cannot slip through."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
