"""The two floors of a catalog endpoint, for ``bench/catalog.py``.

* **The endpoint's own SQL.** ``capture_sql`` sends each sampled request once through the ASGI app
  in-process and records every statement the request ran (SQL text and bound arguments, read at
  asyncpg's ``PreparedStatement.fetch``, which every SQLAlchemy statement and every ``PreparedQuery``
  goes through). Only reads are kept (``SELECT``/``WITH``): a request's key-use note is a write of another
  unit, at most once a minute.
* **The database floor.** ``drive_sql`` replays those statements through plain asyncpg connections, one
  per client, at the given concurrency: each client runs one request's statements in order (as the
  server does, autocommit, statements prepared once per connection) and counts a request when the last
  one's rows are decoded (asyncpg decodes every column into a ``Record``; JSON columns are parsed with
  ``json.loads`` as SQLAlchemy's codec does).
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import pstats
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import asyncpg
import httpx
from asyncpg.prepared_stmt import PreparedStatement

from showfloor.server.app import create_app
from showfloor.server.config import Settings

T = TypeVar("T")
Statement = tuple[str, tuple[Any, ...]]
Request = tuple[str, dict[str, Any]]  # (path, query params)

_recording: list[Statement] | None = None
_original_fetch = PreparedStatement.fetch


async def _recording_fetch(self: PreparedStatement, *args: Any, **options: Any) -> Any:
    if _recording is not None:
        _recording.append((self.get_query(), args))
    return await _original_fetch(self, *args, **options)


def _is_read(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH")


async def capture_sql(
    url: str, key: str, requests: Sequence[Request], profile: cProfile.Profile | None = None
) -> list[list[Statement]]:
    """Each request's read statements, in order, as the app ran them (one request at a time);
    ``profile``, when given, is enabled around the requests (the set-up request excluded)."""
    global _recording
    settings = Settings(database_url=url, rate_limit_enabled=False, embedded_worker=False)
    app = create_app(settings, run_background_jobs=False)
    captured: list[list[Statement]] = []
    PreparedStatement.fetch = _recording_fetch  # type: ignore[method-assign]
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers
            ) as client:
                # The first request also sets the connection up (server version, codecs): not the endpoint's.
                await client.get(requests[0][0], params=requests[0][1])
                for path, params in requests:
                    _recording = []
                    if profile is not None:
                        profile.enable()
                    resp = await client.get(path, params=params)
                    if profile is not None:
                        profile.disable()
                    if resp.status_code != 200:
                        raise RuntimeError(f"{path} {params}: {resp.status_code} {resp.text[:200]}")
                    captured.append([s for s in _recording if _is_read(s[0])])
    finally:
        _recording = None
        PreparedStatement.fetch = _original_fetch  # type: ignore[method-assign]
    return captured


async def _connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=str, decoder=json.loads, schema="pg_catalog")
    return conn


async def drive_sql(
    dsn: str,
    captured: Sequence[list[Statement]],
    seconds: float,
    warmup: float,
    clients: int,
    seed: int,
    on_done: Callable[[], T],
) -> tuple[float, list[float], int, T]:
    """(requests/s, latencies in s, requests sent including warm-up, ``on_done()`` called before the
    connections close) of the replayed statements."""
    conns = [await _connect(dsn) for _ in range(clients)]
    latencies: list[float] = []
    sent = 0
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + seconds

    async def client_loop(n: int, conn: asyncpg.Connection) -> None:
        nonlocal sent
        order = list(range(len(captured)))
        random.Random(seed * 1000 + n).shuffle(order)
        i = 0
        while (now := time.perf_counter()) < deadline:
            decoded = 0
            for sql, args in captured[order[i % len(order)]]:
                rows = await conn.fetch(sql, *args)
                decoded += sum(len(r) for r in rows)
            done = time.perf_counter()
            if now >= measure_from:
                latencies.append(done - now)
            sent += 1
            i += 1

    try:
        await asyncio.gather(*(client_loop(n, c) for n, c in enumerate(conns)))
        rps = len(latencies) / (time.perf_counter() - measure_from)
        done = on_done()
    finally:
        for conn in conns:
            await conn.close()
    return rps, latencies, sent, done


def statement_counts(captured: Sequence[list[Statement]]) -> Counter[int]:
    """How many statements a request ran: {statements: requests}."""
    return Counter(len(c) for c in captured)


# Where the in-process time of a request goes, by the package of the function that spends it.
GROUPS = (
    ("asyncpg (driver, decoding)", ("/asyncpg/",)),
    ("SQLAlchemy (compile, execute, ORM rows)", ("/sqlalchemy/",)),
    ("pydantic", ("/pydantic/", "pydantic_core")),
    ("FastAPI / Starlette", ("/fastapi/", "/starlette/")),
    ("httpx (bench client, in-process)", ("/httpx/", "/httpcore/", "/anyio/")),
    ("showfloor", ("/showfloor/",)),
    ("json", ("/json/", "_json")),
    ("asyncio event loop", ("/asyncio/", "selectors")),
)


def _group(filename: str, name: str) -> str:
    where = f"{filename}:{name}"
    return next((label for label, marks in GROUPS if any(m in where for m in marks)), "other Python")


def profile_shares(profile: cProfile.Profile) -> list[tuple[str, float]]:
    """Share of the profiled CPU time per package group, largest first. A function's own time counts
    for its package; a builtin's (``len``, ``isinstance``, a C method) for the package of its caller."""
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, own, _cum, callers) in stats.items():
        if filename != "~":
            group = _group(filename, name)
            totals[group] = totals.get(group, 0.0) + own
            continue
        for (caller_file, _l, caller_name), edge in callers.items():
            group = _group(caller_file, caller_name) if caller_file != "~" else "other Python"
            totals[group] = totals.get(group, 0.0) + edge[2]
    whole = sum(totals.values()) or 1.0
    return sorted(((g, t / whole) for g, t in totals.items()), key=lambda x: -x[1])
