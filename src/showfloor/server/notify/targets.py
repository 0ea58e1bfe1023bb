"""Where a webhook may go: URL rules at registration, and address checks at every attempt.

A URL must be ``https`` (``http`` only with ``SHOWFLOOR_WEBHOOK_ALLOW_PRIVATE=true``), carry a host and
no credentials. At each attempt the host is resolved and EVERY address it resolves to must be public
(not private, loopback, link-local, shared, multicast or reserved, IPv4 embedded in IPv6 included);
the request then connects to the address that was checked, so a DNS answer that changes between the
check and the connection (rebinding) cannot steer it elsewhere. The operator's setting lifts the
address rule for tests and on-premise receivers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from showfloor.server.errors import InvalidRequest

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (the real one asks the system resolver).
Resolver = Callable[[str, int], Awaitable[list[str]]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(Exception):
    """The attempt was refused before connecting (the reason is recorded as the delivery's error)."""


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast, looking through IPv4-in-IPv6 forms (mapped, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not address.is_multicast


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def validate_url(url: str, *, allow_private: bool) -> str:
    """The URL to store, or InvalidRequest saying what is wrong with it."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidRequest(f"url must be 1 to {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidRequest("url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidRequest(f"url is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise InvalidRequest("url must be an https:// URL")
    if scheme == "http" and not allow_private:
        raise InvalidRequest("url must be an https:// URL (http is allowed only on-premise)")
    host = parts.hostname
    if not host:
        raise InvalidRequest("url has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest("url must not carry credentials; authenticate the request by its signature")
    if parts.fragment:
        raise InvalidRequest("url must not have a fragment")
    if port == 0:
        raise InvalidRequest("url has an invalid port")
    try:
        host.encode("idna")
    except UnicodeError:
        raise InvalidRequest("url has an invalid host name") from None
    if not allow_private:
        literal = _literal_address(host)
        if (literal is not None and not is_public(literal)) or _is_local_name(host):
            raise InvalidRequest("url points at a private, loopback or link-local address")
    return url


def _is_local_name(host: str) -> bool:
    host = host.rstrip(".").lower()
    return host == "localhost" or host.endswith((".localhost", ".local", ".internal"))


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_address(host: str, port: int, *, allow_private: bool, resolver: Resolver) -> str:
    """The address to connect to: every address ``host`` resolves to must be public (unless allowed)."""
    literal = _literal_address(host)
    try:
        found = [str(literal)] if literal is not None else await resolver(host, port)
    except OSError as exc:
        raise UnsafeTarget(f"cannot resolve {host}: {exc}") from None
    if not found:
        raise UnsafeTarget(f"cannot resolve {host}: no address")
    if not allow_private:
        for text in found:
            address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
            if not is_public(address):
                raise UnsafeTarget(f"refused: {host} resolves to a non-public address ({address})")
    return found[0]
