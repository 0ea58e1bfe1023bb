"""``showfloor serve --workers 2`` as a real process tree: one SO_REUSEPORT socket per worker (Linux).

What is checked from outside, through /proc: each worker listens on a socket of its own, concurrent
keep-alive connections land on both workers, a second server on the taken port fails at once, a killed
worker is replaced while the port keeps answering, and SIGTERM stops every process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.drill_support import drill_env, start_server, stop_process, wait_status

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balancing: Linux only")

LISTEN, ESTABLISHED = "0A", "01"
Served = tuple[subprocess.Popen[bytes], str, int]  # the server process, its base URL, its port


def sockets_on_port(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets whose local port is ``port``, in ``state`` (/proc/net/tcp's hex code)."""
    inodes: set[str] = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:] if table.exists() else []:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def owners(inodes: set[str]) -> dict[int, set[str]]:
    """Process id → which of ``inodes`` it holds open."""
    held: dict[int, set[str]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue  # gone, or not ours
        mine = {link[8:-1] for link in links if link.startswith("socket:[")} & inodes
        if mine:
            held[int(pid)] = mine
    return held


def listeners(port: int) -> dict[int, set[str]]:
    return owners(sockets_on_port(port, LISTEN))


def wait_for_listeners(port: int, count: int, within: float = 30) -> dict[int, set[str]]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = listeners(port)
        if len(found) == count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"expected {count} listening processes on {port}, found {listeners(port)}")


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    subprocess.run(
        [sys.executable, "-m", "showfloor", "admin", "migrate"], env=drill_env(url), check=True,
        capture_output=True, timeout=60,
    )  # fmt: skip
    return url


@pytest.fixture()
def two_workers(sqlite_url: str, tmp_path: Path) -> Iterator[Served]:
    proc, base = start_server(sqlite_url, workers=2, log=tmp_path / "serve.log")
    try:
        up = asyncio.run(wait_status(base, "/healthz", 200, within=30))
        assert up, (tmp_path / "serve.log").read_text()
        yield proc, base, int(base.rsplit(":", 1)[1])
    finally:
        stop_process(proc)


def test_each_worker_listens_on_a_socket_of_its_own(two_workers: Served) -> None:
    proc, _, port = two_workers
    found = wait_for_listeners(port, 2)
    assert proc.pid not in found  # the supervisor holds no listening socket that nobody accepts on
    first, second = found.values()
    assert len(first) == len(second) == 1 and first != second


def test_concurrent_keep_alive_connections_land_on_both_workers(
    two_workers: Served,
) -> None:
    _, base, port = two_workers
    workers = set(wait_for_listeners(port, 2))

    async def open_connections() -> dict[int, int]:
        clients = [httpx.AsyncClient(base_url=base, timeout=10) for _ in range(32)]
        try:
            answers = await asyncio.gather(*(client.get("/healthz") for client in clients))
            assert {answer.status_code for answer in answers} == {200}
            held = owners(sockets_on_port(port, ESTABLISHED))  # the server ends of the 32 connections
            return {pid: len(held.get(pid, set())) for pid in workers}
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))

    per_worker = asyncio.run(open_connections())
    assert sum(per_worker.values()) == 32
    # Spread by the kernel's hash: each worker below 4 of 32 has a chance of about 1 in 800,000.
    # A shared socket gave one worker nearly all of them (bench/paid.py: 14 and 2 of 16).
    assert min(per_worker.values()) >= 4, per_worker


def test_a_second_server_on_a_taken_port_fails_at_once(two_workers: Served, sqlite_url: str) -> None:
    _, _, port = two_workers
    done = subprocess.run(
        [sys.executable, "-m", "showfloor", "serve", "--port", str(port), "--workers", "2"],
        env=drill_env(sqlite_url), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 3  # uvicorn's startup-failure code
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert len(listeners(port)) == 2  # the running server is untouched


def test_a_killed_worker_is_replaced_and_sigterm_stops_every_process(
    two_workers: Served,
) -> None:
    proc, base, port = two_workers
    victim, survivor = wait_for_listeners(port, 2)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and set(listeners(port)) in ({survivor}, {victim, survivor}):
        time.sleep(0.1)
    replaced = wait_for_listeners(port, 2)
    assert survivor in replaced and victim not in replaced
    assert all(httpx.get(f"{base}/healthz", timeout=10).status_code == 200 for _ in range(8))

    assert stop_process(proc) == 0
    assert listeners(port) == {}
