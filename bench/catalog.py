"""Catalog read benchmark over HTTP: p50/p99 latency and requests/s of four catalog lists next to /healthz.

    .venv/bin/python bench/catalog.py [--database-url postgresql+asyncpg://…/sf_demo_big] [--seconds 10]

Without ``--database-url`` it creates a scratch PostgreSQL database at ``--pg-dsn``, migrates it, loads
the demo generator (``showfloor admin demo-data --events 5000 --exhibitors 100000 --personnel 1000000``,
about 3 minutes) and drops it at the end. It creates a bench account and API key (``showfloor admin``
CLI), records event unlocks (base, some with the visitor layer) for half of the sampled events so the
preview and the full-access paths are both measured, starts ``showfloor serve --workers N`` on a free
port (rate limiting off) and drives each endpoint for ``--seconds`` with ``--clients`` concurrent
keep-alive httpx clients, inputs varied per request (keywords, events, filters, companies, pages).

Latency is measured client-side per request; the server-side figure comes from the per-route
histogram at /metrics (merged over workers through PROMETHEUS_MULTIPROC_DIR; bucket-interpolated).
Not a test: it prints figures. Targets (issue 3): p99 <= 50 ms and >= 40 % of /healthz requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select

from showfloor.server.access.service import LAYER_BASE, LAYER_VISITOR, record_event_unlock
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.models.catalog import Event

sys.path.insert(0, str(Path(__file__).parent))
from cpu import CpuMeter, phase_cost

BIN = Path(sys.executable).parent
Request = tuple[str, dict[str, Any]]  # (path, query params)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain_dsn(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def showfloor(url: str, *args: str) -> str:
    env = {**os.environ, "SHOWFLOOR_DATABASE_URL": url}
    return subprocess.run(
        [str(BIN / "showfloor"), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- inputs -----------------------------------------------------------------------------------


@dataclass
class Inputs:
    keywords: list[str]
    exhibitor_events: list[str]  # event_id of large events (by exhibitor count)
    personnel_events: list[tuple[str, int]]  # (event_id, pages visible when unlocked)
    companies: list[str]
    industries: list[str]
    countries: list[str]
    categories: list[str]
    unlocked: set[str] = field(default_factory=set)


async def sample_inputs(url: str, rng: random.Random) -> Inputs:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        names = [r[0] for r in await conn.fetch("SELECT name FROM events ORDER BY random() LIMIT 400")]
        words = sorted({w for n in names for w in re.findall(r"[A-Za-z]{4,}", n)})
        keywords = words + [w[: max(4, len(w) - 3)] for w in words]  # whole words and prefixes
        keywords += [" ".join(n.split()[:2]) for n in names[:100]]  # two-word phrases
        big = await conn.fetch(
            "SELECT event_id, exhibitor_count, personnel_count FROM events "
            "ORDER BY exhibitor_count DESC LIMIT 200"
        )
        crowded = await conn.fetch(
            "SELECT event_id, personnel_count FROM events ORDER BY personnel_count DESC LIMIT 200"
        )
        companies = [
            r[0]
            for r in await conn.fetch(
                "SELECT company_name FROM personnel TABLESAMPLE SYSTEM (1) "
                "WHERE company_name IS NOT NULL LIMIT 2000"
            )
        ]
        industries = [r[0] for r in await conn.fetch("SELECT DISTINCT industry FROM exhibitors LIMIT 50")]
        countries = [r[0] for r in await conn.fetch("SELECT DISTINCT country FROM exhibitors LIMIT 50")]
        categories = [
            r[0]
            for r in await conn.fetch(
                "SELECT DISTINCT json_array_elements_text(categories) FROM "
                "(SELECT categories FROM exhibitors LIMIT 5000) s"
            )
        ]
    finally:
        await conn.close()
    rng.shuffle(companies)
    return Inputs(
        keywords=keywords,
        exhibitor_events=[r[0] for r in big],
        personnel_events=[(r[0], max(1, r[1] // 50)) for r in crowded],
        companies=sorted(set(companies), key=companies.index)[:1000],
        industries=[i for i in industries if i],
        countries=[c for c in countries if c],
        categories=categories,
    )


async def setup_account(url: str, inputs: Inputs, rng: random.Random) -> str:
    """A bench account + key; base unlocks (a third also with the visitor layer) on half the events."""
    account = json.loads(showfloor(url, "admin", "accounts", "create", "--name", "catalog-bench", "--json"))
    key = json.loads(showfloor(url, "admin", "keys", "create", "--account", account["id"], "--json"))
    events = sorted({*inputs.exhibitor_events, *(e for e, _ in inputs.personnel_events)})
    chosen = rng.sample(events, len(events) // 2)
    db = Database(make_engine(url, null_pool=True))
    try:
        async with db.write() as session:
            rows = await session.execute(select(Event.event_id, Event.id).where(Event.event_id.in_(chosen)))
            pks = {event_id: pk for event_id, pk in rows}
            for n, event_id in enumerate(chosen):
                await record_event_unlock(session, int(account["id"]), pks[event_id], LAYER_BASE, None)
                if n % 3 == 0:
                    await record_event_unlock(session, int(account["id"]), pks[event_id], LAYER_VISITOR, None)
    finally:
        await db.dispose()
    inputs.unlocked = set(chosen)
    return str(key["key"])


# --- request generators -----------------------------------------------------------------------


def events_request(inp: Inputs, rng: random.Random) -> Request:
    params: dict[str, Any] = {"keyword": rng.choice(inp.keywords), "page": rng.choice((1, 1, 1, 2, 3))}
    if rng.random() < 0.2:
        params["pageSize"] = 50
    return "/external/events/list", params


def exhibitors_request(inp: Inputs, rng: random.Random) -> Request:
    event = rng.choice(inp.exhibitor_events)
    params: dict[str, Any] = {"event_id": event, "page": rng.choice((1, 1, 2))}
    kind = rng.randrange(4)
    if kind == 0:
        params["industry"] = rng.sample(inp.industries, 2)
    elif kind == 1:
        params["country"] = rng.choice(inp.countries)
        params["category"] = rng.choice(inp.categories)
    elif kind == 2:
        params["managementLevel"] = rng.choice(("vp", "director", "c_suite", "manager"))
        params["department"] = rng.choice(("sales", "marketing", "engineering", "finance"))
    else:
        params["jobTitle"] = rng.choice(("VP", "Director", "Engineer", "Manager", "Head"))
        params["industry"] = rng.choice(inp.industries)
    return "/external/exhibitors/list", params


def personnel_request(inp: Inputs, rng: random.Random) -> Request:
    event, pages = rng.choice(inp.personnel_events)
    page = rng.randint(1, pages) if event in inp.unlocked else 1
    params: dict[str, Any] = {"event_id": event, "page": page, "pageSize": rng.choice((20, 50))}
    if rng.random() < 0.25:
        params["department"] = rng.choice(("sales", "marketing", "engineering", "finance"))
    return "/external/personnel/list", params


def contacts_request(inp: Inputs, rng: random.Random) -> Request:
    params: dict[str, Any] = {"company_name": rng.choice(inp.companies), "page": rng.choice((1, 1, 1, 2))}
    if rng.random() < 0.2:
        params["role"] = rng.choice(("VP", "Director", "Manager", "Engineer"))
    return "/external/contacts/search", params


def healthz_request(inp: Inputs, rng: random.Random) -> Request:
    return "/healthz", {}


@dataclass(frozen=True)
class Target:
    label: str
    route: str  # route template in the metrics histogram
    make: Callable[[Inputs, random.Random], Request]


TARGETS = (
    Target("healthz", "/healthz", healthz_request),
    Target("events list + keyword", "/external/events/list", events_request),
    Target("exhibitors list (large event, filters)", "/external/exhibitors/list", exhibitors_request),
    Target("personnel list", "/external/personnel/list", personnel_request),
    Target("contacts search (company)", "/external/contacts/search", contacts_request),
)


# --- driving ----------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: Counter[int]
    server_p50_ms: float | None = None
    server_p99_ms: float | None = None
    cpu: str = ""  # CPU per request (warm-up included) of the server, PostgreSQL and this client
    requests: int = 0  # every request sent, warm-up included


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def drive(
    base: str,
    key: str,
    target: Target,
    inputs: Inputs,
    seconds: float,
    warmup: float,
    clients: int,
    seed: int,
) -> Result:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + seconds
    sent = 0  # every request, warm-up included (the CPU figures cover the warm-up too)

    async def client_loop(n: int) -> None:
        nonlocal sent
        rng = random.Random(seed * 1000 + n)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            while (now := time.perf_counter()) < deadline:
                path, params = target.make(inputs, rng)
                resp = await client.get(path, params=params)
                done = time.perf_counter()
                if now >= measure_from:
                    latencies.append(done - now)
                    statuses[resp.status_code] += 1
                sent += 1

    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    elapsed = time.perf_counter() - measure_from
    return Result(
        target.label,
        len(latencies) / elapsed,
        percentile(latencies, 0.50) * 1000,
        percentile(latencies, 0.99) * 1000,
        statuses,
        requests=sent,
    )


METRICS_TOKEN = "bench-catalog-metrics-token"
_BUCKET = re.compile(r"^showfloor_http_request_duration_seconds_bucket\{(?P<labels>[^}]*)\} (?P<value>\S+)$")


async def route_buckets(base: str) -> dict[str, dict[float, float]]:
    """route -> {upper bound: cumulative count} over status 200, from /metrics."""
    async with httpx.AsyncClient(base_url=base) as client:
        text = (await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
    out: dict[str, dict[float, float]] = {}
    for line in text.splitlines():
        m = _BUCKET.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m["labels"]))
        if labels.get("status") != "200":
            continue
        bound = float("inf") if labels["le"] == "+Inf" else float(labels["le"])
        route = out.setdefault(labels["route"], {})
        route[bound] = route.get(bound, 0.0) + float(m["value"])
    return out


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float | None:
    """Quantile of the observations between two scrapes, linearly interpolated inside its bucket."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    if total <= 0:
        return None
    rank, lower, prev = q * total, 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if bound == float("inf"):
                return lower * 1000
            share = (rank - prev) / (cumulative - prev) if cumulative > prev else 1.0
            return (lower + (bound - lower) * share) * 1000
        lower, prev = bound, cumulative
    return None


async def wait_healthy(base: str, proc: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            if proc.returncode is not None:
                raise RuntimeError("showfloor serve exited")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("showfloor serve did not become healthy")


async def run(url: str, args: argparse.Namespace) -> list[Result]:
    rng = random.Random(args.seed)
    inputs = await sample_inputs(url, rng)
    key = await setup_account(url, inputs, rng)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="sf_bench_prom_") as prom_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
        env.update(
            SHOWFLOOR_DATABASE_URL=url,
            SHOWFLOOR_RATE_LIMIT_ENABLED="false",
            SHOWFLOOR_LOG_LEVEL="WARNING",
            PROMETHEUS_MULTIPROC_DIR=prom_dir,
            SHOWFLOOR_METRICS_TOKEN=METRICS_TOKEN,  # /metrics is off the API port without it
        )
        cmd = [str(BIN / "showfloor"), "serve", "--port", str(port), "--workers", str(args.workers)]
        proc = await asyncio.create_subprocess_exec(
            *cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await wait_healthy(base, proc)
            meter = CpuMeter(proc.pid)
            results = []
            for n, target in enumerate(TARGETS):
                if args.only and n > 0 and not any(word in target.route for word in args.only):
                    continue
                before = await route_buckets(base)
                cpu_before = meter.sample()
                result = await drive(
                    base, key, target, inputs, args.seconds, args.warmup, args.clients, args.seed + n
                )
                result.cpu = phase_cost(cpu_before, meter.sample(), result.requests)
                after = (await route_buckets(base)).get(target.route, {})
                result.server_p50_ms = bucket_quantile(before.get(target.route, {}), after, 0.50)
                result.server_p99_ms = bucket_quantile(before.get(target.route, {}), after, 0.99)
                results.append(result)
                print(f"  {target.label}: {result.rps:.0f} req/s, {result.cpu}", file=sys.stderr)
            return results
        finally:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def report(results: list[Result], args: argparse.Namespace, load: str) -> None:
    ceiling = results[0].rps
    print(f"\n{args.clients} clients, showfloor serve --workers {args.workers}, {args.seconds:g} s per row "
          f"(+{args.warmup:g} s warm-up); load average before the run: {load}")  # fmt: skip
    print(
        "| endpoint | req/s | p50 ms | p99 ms | server p50 ms | server p99 ms | of /healthz req/s | statuses |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        server = [f"{v:.1f}" if v is not None else "–" for v in (r.server_p50_ms, r.server_p99_ms)]
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(r.statuses.items()))
        print(f"| {r.label} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {server[0]} | {server[1]} | "
              f"{r.rps / ceiling:.0%} | {statuses} |")  # fmt: skip
    catalog = results[1:]
    print(f"\np99 <= 50 ms: {'met' if all(r.p99_ms <= 50 for r in catalog) else 'NOT met'}; "
          f">= 40 % of /healthz: {'met' if all(r.rps >= 0.4 * ceiling for r in catalog) else 'NOT met'}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="reuse a loaded database (postgresql+asyncpg://…)")
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("SHOWFLOOR_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin DSN for the scratch database",
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--exhibitors", type=int, default=100_000)
    parser.add_argument("--personnel", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--only", nargs="*", help="route words to keep (events, exhibitors, …); /healthz always runs"
    )
    args = parser.parse_args()
    load = load_average()

    scratch: str | None = None
    url = args.database_url
    if url is None:
        scratch = f"showfloor_bench_catalog_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(args.pg_dsn)
        await admin.execute(f'CREATE DATABASE "{scratch}"')
        await admin.close()
        url = (
            args.pg_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{scratch}"
        )
    try:
        if scratch is not None:
            print(f"loading demo data into {scratch} (a few minutes) …", file=sys.stderr)
            showfloor(url, "admin", "migrate")
            sizes = ("--events", str(args.events), "--exhibitors", str(args.exhibitors))
            showfloor(url, "admin", "demo-data", *sizes, "--personnel", str(args.personnel))
            admin = await asyncpg.connect(args.pg_dsn.rsplit("/", 1)[0] + f"/{scratch}")
            await admin.execute("ANALYZE")
            await admin.close()
        results = await run(url, args)
    finally:
        if scratch is not None:
            admin = await asyncpg.connect(args.pg_dsn)
            await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            await admin.close()
    report(results, args, load)


if __name__ == "__main__":
    asyncio.run(main())
