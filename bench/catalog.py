"""Catalog read benchmark over HTTP, against the sum of its floors measured in the same run.

    .venv/bin/python bench/catalog.py [--database-url postgresql+asyncpg://…/sf_demo_big] [--seconds 10]
    .venv/bin/python bench/catalog.py --personnel 100000 --events 500 --exhibitors 10000 --seconds 3  # quick

Without ``--database-url`` it creates a scratch PostgreSQL database at ``--pg-dsn``, migrates it, loads
the demo generator (``showfloor admin demo-data --events 5000 --exhibitors 100000 --personnel 1000000``
by default, about 3 minutes on a quiet machine) and drops it at the end. It creates a bench account and
API key (``showfloor admin`` CLI), records event unlocks (base, some with the visitor layer) for half of
the sampled events so the preview and the full-access paths are both measured, and draws ``--samples``
requests per endpoint (keywords, events, filters, companies, pages).

For each catalog endpoint and each ``--clients`` concurrency (default 1 and 8), in the same run:

* (a) **HTTP floor**: ``/healthz`` requests/s through the same server (``showfloor serve --workers N``,
  rate limiting off) and the same client (keep-alive httpx, one per concurrent client), measured before
  and after the endpoints of that concurrency (the mean is used; both are printed);
* (b) **database floor**: the endpoint's own SQL, captured per sampled request from the app in-process
  (``catalog_floors.capture_sql``), replayed through asyncpg at the same concurrency, rows decoded;
* the endpoint's requests/s over the same samples, p50/p99 (client side and, from /metrics, server side),
  CPU per request of the server, PostgreSQL and the client, and its ratio to the ideal
  ``1 / (1/a + 1/b)``: what a server adding nothing beyond those two floors would reach.

Not a test: it prints figures. Targets (issue 17): ratio >= 0.7 for every endpoint and p99 <= 50 ms at
8 clients, at 1M personnel."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
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
from catalog_floors import Statement, capture_sql, drive_sql, profile_shares, statement_counts
from cpu import CpuMeter, CpuSample, phase_cost

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
    kind = rng.randrange(5)  # 4: unfiltered (the total read from the event row)
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


HEALTHZ = Target("healthz", "/healthz", healthz_request)
ENDPOINTS = (
    Target("events list + keyword", "/external/events/list", events_request),
    Target("exhibitors list (large event)", "/external/exhibitors/list", exhibitors_request),
    Target("personnel list", "/external/personnel/list", personnel_request),
    Target("contacts search (company)", "/external/contacts/search", contacts_request),
)


# --- driving ----------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    clients: int
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: Counter[int] = field(default_factory=Counter)
    server_p50_ms: float | None = None
    server_p99_ms: float | None = None
    cpu: str = ""  # CPU per request (warm-up included) of the server, PostgreSQL and this client
    requests: int = 0  # every request sent, warm-up included


@dataclass
class Row:
    """One endpoint at one concurrency, with its two floors."""

    endpoint: Result
    http_floor: float  # /healthz req/s (mean of before and after)
    db_floor: Result
    statements: str  # statements per request: "3" or "3-5"

    @property
    def ideal(self) -> float:
        return 1 / (1 / self.http_floor + 1 / self.db_floor.rps)

    @property
    def ratio(self) -> float:
        return self.endpoint.rps / self.ideal


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def drive(
    base: str,
    key: str,
    label: str,
    requests: list[Request],
    seconds: float,
    warmup: float,
    clients: int,
    seed: int,
) -> Result:
    """``clients`` keep-alive clients, each through the sampled requests in its own shuffled order."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + seconds
    sent = 0  # every request, warm-up included (the CPU figures cover the warm-up too)

    async def client_loop(n: int) -> None:
        nonlocal sent
        order = list(range(len(requests)))
        random.Random(seed * 1000 + n).shuffle(order)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            i = 0
            while (now := time.perf_counter()) < deadline:
                path, params = requests[order[i % len(order)]]
                resp = await client.get(path, params=params)
                done = time.perf_counter()
                if now >= measure_from:
                    latencies.append(done - now)
                    statuses[resp.status_code] += 1
                sent += 1
                i += 1

    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    elapsed = time.perf_counter() - measure_from
    return Result(
        label,
        clients,
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


async def prime(base: str, key: str, requests: list[Request], workers: int) -> None:
    """Each endpoint a few times on new connections, so every worker process has served it before the
    measurement: a worker's first request of a route pays one-time costs (the OpenAPI schema that
    ``api.query_params`` builds, prepared statements), seconds on a loaded machine."""
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(4 * workers):
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            for path, params in requests:
                await client.get(path, params=params)


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


def _phase_cpu(meter: CpuMeter, before: CpuSample, requests: int) -> str:
    return phase_cost(before, meter.sample(), requests)


async def _floor_db(
    dsn: str,
    label: str,
    captured: list[list[Statement]],
    args: argparse.Namespace,
    clients: int,
    seed: int,
    meter: CpuMeter,
) -> Result:
    cpu = meter.sample()
    # The CPU is read before the replay's connections close (a closed backend's CPU leaves the sum).
    rps, latencies, sent, end = await drive_sql(
        dsn, captured, args.seconds, args.warmup, clients, seed, on_done=meter.sample
    )
    result = Result(
        label,
        clients,
        rps,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        requests=sent,
    )
    result.cpu = phase_cost(cpu, end, sent)
    return result


async def _healthz(base: str, key: str, args: argparse.Namespace, clients: int, meter: CpuMeter) -> float:
    requests = [healthz_request(Inputs([], [], [], [], [], [], []), random.Random(0))]
    cpu = meter.sample()
    result = await drive(base, key, "healthz", requests, args.seconds, args.warmup, clients, args.seed)
    print(
        f"  {clients} clients, /healthz: {result.rps:.0f} req/s ({_phase_cpu(meter, cpu, result.requests)})",
        file=sys.stderr,
    )
    return result.rps


async def run(url: str, args: argparse.Namespace) -> tuple[list[Row], dict[int, tuple[float, float]]]:
    rng = random.Random(args.seed)
    inputs = await sample_inputs(url, rng)
    key = await setup_account(url, inputs, rng)
    endpoints = [t for t in ENDPOINTS if not args.only or any(word in t.route for word in args.only)]
    samples: dict[str, list[Request]] = {}
    captured: dict[str, list[list[Statement]]] = {}
    for n, target in enumerate(endpoints):
        target_rng = random.Random(args.seed * 100 + n)
        samples[target.label] = [target.make(inputs, target_rng) for _ in range(args.samples)]
        profile = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
        captured[target.label] = await capture_sql(url, key, samples[target.label], profile)
        if profile is not None:
            shares = ", ".join(f"{g} {share:.0%}" for g, share in profile_shares(profile) if share >= 0.01)
            per_request = 1000 * pstats.Stats(profile).total_tt / len(samples[target.label])  # type: ignore[attr-defined]
            print(f"  in-process profile of {target.label} ({per_request:.1f} ms CPU per request under the "
                  f"profiler): {shares}", file=sys.stderr)  # fmt: skip
        counts = statement_counts(captured[target.label])
        print(
            f"  captured {target.label}: statements per request {dict(sorted(counts.items()))}",
            file=sys.stderr,
        )
    dsn = plain_dsn(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rows: list[Row] = []
    floors: dict[int, tuple[float, float]] = {}
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
            await prime(base, key, [samples[t.label][0] for t in endpoints], args.workers)
            meter = CpuMeter(proc.pid, database=url.rsplit("/", 1)[1].split("?")[0])
            for clients in args.clients:
                before_floor = await _healthz(base, key, args, clients, meter)
                block: list[tuple[Result, Result, str]] = []
                for n, target in enumerate(endpoints):
                    label, seed = target.label, args.seed + n
                    cpu = meter.sample()
                    metrics = await route_buckets(base)
                    result = await drive(
                        base, key, label, samples[label], args.seconds, args.warmup, clients, seed
                    )
                    result.cpu = _phase_cpu(meter, cpu, result.requests)
                    after = (await route_buckets(base)).get(target.route, {})
                    result.server_p50_ms = bucket_quantile(metrics.get(target.route, {}), after, 0.50)
                    result.server_p99_ms = bucket_quantile(metrics.get(target.route, {}), after, 0.99)
                    db = await _floor_db(dsn, label, captured[label], args, clients, seed, meter)
                    counts = statement_counts(captured[label])
                    span = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
                    block.append((result, db, span))
                    print(f"  {clients} clients, {label}: {result.rps:.0f} req/s ({result.cpu}); "
                          f"SQL alone {db.rps:.0f} req/s ({db.cpu})", file=sys.stderr)  # fmt: skip
                after_floor = await _healthz(base, key, args, clients, meter)
                floors[clients] = (before_floor, after_floor)
                http_floor = (before_floor + after_floor) / 2
                rows += [Row(result, http_floor, db, span) for result, db, span in block]
            return rows, floors
        finally:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def report(
    rows: list[Row],
    floors: dict[int, tuple[float, float]],
    args: argparse.Namespace,
    load: str,
    personnel: str,
) -> None:
    print(f"\n{personnel}; showfloor serve --workers {args.workers}; {args.samples} sampled requests per endpoint; "
          f"{args.seconds:g} s per phase (+{args.warmup:g} s warm-up); load average before the run: {load}")  # fmt: skip
    for clients, (before, after) in floors.items():
        print(
            f"HTTP floor (/healthz) at {clients} client(s): {before:,.0f} before, {after:,.0f} after the endpoints"
        )
    print(
        "\n| endpoint | clients | req/s | p50 ms | p99 ms | server p50/p99 ms | (a) HTTP floor | "
        "(b) SQL floor (statements) | ideal | ratio | CPU ms/request server / PG / client | SQL floor CPU PG / client |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        e, db = r.endpoint, r.db_floor
        server = "/".join(f"{v:.1f}" if v is not None else "–" for v in (e.server_p50_ms, e.server_p99_ms))
        cpu = e.cpu.replace(" ms CPU per request", "").replace("server ", "").replace("postgres ", "")
        cpu = cpu.replace("client ", "")
        db_cpu = " / ".join(db.cpu.replace(" ms CPU per request", "").split(" / ")[1:]).replace(
            "postgres ", ""
        )
        db_cpu = db_cpu.replace("client ", "")
        bad = [f"{s}×{n}" for s, n in sorted(e.statuses.items()) if s != 200]
        label = e.label + (f" ({', '.join(bad)})" if bad else "")
        print(f"| {label} | {e.clients} | {e.rps:,.0f} | {e.p50_ms:.1f} | {e.p99_ms:.1f} | {server} | "
              f"{r.http_floor:,.0f} | {db.rps:,.0f} ({r.statements}) | {r.ideal:,.0f} | {r.ratio:.2f} | {cpu} | {db_cpu} |")  # fmt: skip
    top = max(args.clients)
    at_top = [r for r in rows if r.endpoint.clients == top]
    ratio_ok = all(r.ratio >= 0.7 for r in at_top)
    p99_ok = all(r.endpoint.p99_ms <= 50 for r in at_top)
    print(f"\nAt {top} clients: ratio >= 0.7 {'met' if ratio_ok else 'NOT met'} "
          f"({', '.join(f'{r.endpoint.label} {r.ratio:.2f}' for r in at_top)}); "
          f"p99 <= 50 ms {'met' if p99_ok else 'NOT met'}.")  # fmt: skip


def parse_clients(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


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
    parser.add_argument(
        "--personnel", type=int, default=1_000_000, help="people generated (scratch database)"
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=parse_clients, default=[1, 8], help="concurrencies, e.g. 1,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=300, help="sampled requests per endpoint")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile", action="store_true", help="profile the in-process capture: time by package per endpoint"
    )
    parser.add_argument("--only", nargs="*", help="route words to keep (events, exhibitors, …)")
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
            print(f"loading demo data into {scratch} …", file=sys.stderr)
            started = time.perf_counter()
            showfloor(url, "admin", "migrate")
            sizes = ("--events", str(args.events), "--exhibitors", str(args.exhibitors))
            showfloor(url, "admin", "demo-data", *sizes, "--personnel", str(args.personnel))
            admin = await asyncpg.connect(args.pg_dsn.rsplit("/", 1)[0] + f"/{scratch}")
            await admin.execute("ANALYZE")
            await admin.close()
            print(f"loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        conn = await asyncpg.connect(plain_dsn(url))
        try:
            people, events = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM personnel), (SELECT count(*) FROM events)"
            )
        finally:
            await conn.close()
        rows, floors = await run(url, args)
    finally:
        if scratch is not None:
            admin = await asyncpg.connect(args.pg_dsn)
            await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            await admin.close()
    report(rows, floors, args, load, f"{people:,} personnel, {events:,} events")


if __name__ == "__main__":
    asyncio.run(main())
