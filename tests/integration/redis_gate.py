"""A real TCP listener in front of the real Redis, for outage tests and the chaos drill.

``forward`` pipes each connection to Redis; ``blackhole`` accepts connections and never answers;
``refuse`` closes the listener (connections are refused). Changing the mode drops the open
connections, so a client's pooled connection cannot outlive the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, Literal

Mode = Literal["forward", "blackhole", "refuse"]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class RedisGate:
    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 6379)) -> None:
        self.upstream = upstream
        self.port = closed_port()
        self.mode: Mode = "refuse"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    def url(self, db: int = 15) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    async def set_mode(self, mode: Mode) -> None:
        self._drop_connections()
        if mode == "refuse" and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        elif mode != "refuse" and self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.mode = mode

    async def close(self) -> None:
        await self.set_mode("refuse")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.mode == "blackhole":
                while await reader.read(65536):  # swallow everything, answer nothing
                    pass
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._writers.add(up_writer)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()
