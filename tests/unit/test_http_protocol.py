"""``showfloor serve``'s HTTP protocol turns Nagle off on every connection, whatever socket uvicorn made."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from uvicorn.protocols.http.h11_impl import H11Protocol

from showfloor.server.http_protocol import NoDelayH11Protocol


class FakeTransport(asyncio.Transport):
    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.sock if name == "socket" else default


def test_connection_made_sets_tcp_nodelay(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[asyncio.Transport] = []
    monkeypatch.setattr(H11Protocol, "connection_made", lambda self, transport: seen.append(transport))
    # Protocol number 0, as uvicorn's own bind for --workers > 1 makes it (asyncio then skips NODELAY).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        protocol = object.__new__(NoDelayH11Protocol)
        transport = FakeTransport(sock)
        protocol.connection_made(transport)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert seen == [transport]  # uvicorn's own set-up still runs
