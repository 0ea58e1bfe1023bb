"""Trusted reverse proxies (``SHOWFLOOR_TRUSTED_PROXIES``, CIDRs): the client's address and scheme behind them.

Only when the connection's peer is a trusted proxy are ``X-Forwarded-For`` and ``X-Forwarded-Proto``
believed; then the scope's ``client`` and ``scheme`` are replaced, so everything downstream (per-IP rate
limits, the request log, the console's sign-in throttling and its ``Secure`` cookies) sees the real
client without knowing about proxies. ``X-Forwarded-For`` is read from the right: each hop appended by a
trusted proxy is skipped, and the first untrusted address is the client (a client cannot forge its way
past the proxies, whatever it puts at the left of the header). Without the setting no header is believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """CIDRs or single addresses (``10.0.0.0/8``, ``192.0.2.7``, ``::1``); raises ValueError on others."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def is_trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(peer: str, forwarded_for: str, networks: Sequence[Network]) -> str:
    """The client address, given a trusted ``peer`` and its ``X-Forwarded-For`` value."""
    client = peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client  # garbage (or a hostname): the last address a trusted proxy vouched for
        client = hop
        if not is_trusted(hop, networks):
            return client
    return client


class TrustedProxies:
    def __init__(self, app: ASGIApp, networks: Sequence[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and peer and is_trusted(peer[0], self.networks):
            scope = dict(scope)
            # Several X-Forwarded-For headers are one list, in order (RFC 9110, 5.3).
            forwarded_for = ",".join(
                v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"
            )
            if forwarded_for:
                scope["client"] = (forwarded_client(peer[0], forwarded_for, self.networks), 0)
            protos = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-proto"]
            proto = protos[0].split(",")[0].strip().lower() if protos else ""
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
        await self.app(scope, receive, send)
