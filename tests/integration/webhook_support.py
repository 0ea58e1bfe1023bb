"""A real HTTP webhook receiver on 127.0.0.1 for the tests and the chaos drill, and helpers to create
endpoints and run deliveries.

The receiver is a minimal HTTP/1.1 server (one request per connection) that records every request it
gets and answers what the test scripted: a status per request (``statuses``, then ``default``), a
redirect, or nothing at all until ``release`` is set (``hold``), to keep a delivery in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.models import WebhookDelivery
from showfloor.server.notify.worker import WebhookWorker
from tests.e2e.private_pg import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)  # answered in turn, then ``default``
    default: int = 200
    redirect_to: str | None = None  # answer 302 with this Location
    hold: bool = False  # keep each request unanswered until ``release`` is set
    tls: ssl.SSLContext | None = None  # serve HTTPS with this context
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set on every request
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True, ssl=self.tls
        )

    async def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Receiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), 10)
            self.received.append(Received(path, headers, body))
            self.arrived.set()
            if self.hold:
                await self.release.wait()
            status = self.statuses.pop(0) if self.statuses else self.default
            extra = ""
            if self.redirect_to is not None:
                status, extra = 302, f"Location: {self.redirect_to}\r\n"
            reply = b"ok" if status < 300 else b"receiver says no"
            writer.write(
                f"HTTP/1.1 {status} X\r\n{extra}Content-Length: {len(reply)}\r\nConnection: close\r\n\r\n".encode()
                + reply
            )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def webhook_settings(base: Settings, **overrides: Any) -> Settings:
    """The test's settings with local receivers allowed, immediate retries and short polls."""
    values: dict[str, Any] = {
        "webhook_allow_private": True,
        "webhook_retry_base_seconds": 0.0,
        "webhook_poll_seconds": 0.05,
        "webhook_connect_timeout_seconds": 2.0,
        "webhook_read_timeout_seconds": 5.0,
        "webhook_lease_seconds": 10.0,
    }
    values.update(overrides)
    return base.model_copy(update=values)


async def create_endpoint(
    client: httpx.AsyncClient, url: str, event_types: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, **extra}
    if event_types is not None:
        body["event_types"] = event_types
    response = await client.post("/external/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliver(db: Database, settings: Settings) -> int:
    """Run one in-process delivery worker until nothing is due or in flight; returns the attempts."""
    worker = WebhookWorker(db, settings)
    try:
        return await worker.run(until_idle=True)
    finally:
        await worker.aclose()


async def delivery_states(db: Database) -> list[tuple[str, int]]:
    async with db.read() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery.state, WebhookDelivery.attempts).order_by(WebhookDelivery.id)
            )
        ).all()
    return [(state, int(attempts)) for state, attempts in rows]
