"""``showfloor serve --metrics-port``: /metrics answers on its own listener only, the API port has none,
and the listener serves nothing of the API. A real server process, one and two workers."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.drill_support import drill_env, stop_process, wait_status
from tests.e2e.private_pg import free_port

pytestmark = pytest.mark.slow


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    subprocess.run(
        [sys.executable, "-m", "showfloor", "admin", "migrate"], env=drill_env(url), check=True,
        capture_output=True, timeout=60,
    )  # fmt: skip
    return url


def start_serve(database_url: str, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "showfloor", "serve", *args]
    return subprocess.Popen(
        cmd, env=drill_env(database_url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.mark.parametrize("workers", [1, 2])
async def test_metrics_listener_is_separate_from_the_api(sqlite_url: str, workers: int) -> None:
    if workers > 1 and sys.platform != "linux":
        pytest.skip("the two-worker path with a metrics socket per worker is Linux's")
    port, metrics_port = free_port(), free_port()
    proc = start_serve(
        sqlite_url, "--port", str(port), "--workers", str(workers), "--metrics-port", str(metrics_port)
    )
    api, scrape = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
    try:
        assert await wait_status(api, "/readyz", 200, 120), "serve did not start"
        assert await wait_status(scrape, "/readyz", 200, 120), "the metrics listener did not start"
        async with httpx.AsyncClient(timeout=10) as http:
            on_api = await http.get(f"{api}/metrics")
            assert on_api.status_code == 404 and on_api.json()["errorKey"] == "NOT_FOUND"
            on_listener = await http.get(f"{scrape}/metrics")
            assert on_listener.status_code == 200
            assert "showfloor_http_request_duration_seconds" in on_listener.text
            assert (await http.get(f"{scrape}/healthz")).status_code == 200
            not_served = await http.get(f"{scrape}/external/credits/balance")
            assert not_served.status_code == 404 and not_served.json()["errorKey"] == "NOT_FOUND"
            assert (await http.get(f"{api}/external/credits/balance")).status_code == 401  # the API as usual
    finally:
        # uvicorn re-raises the SIGTERM it handled after a graceful stop (one worker); the supervisor exits 0.
        assert stop_process(proc) in (0, -signal.SIGTERM)


def test_metrics_port_must_differ_from_the_api_port(sqlite_url: str) -> None:
    cmd = [sys.executable, "-m", "showfloor", "serve", "--port", "8765", "--metrics-port", "8765"]
    done = subprocess.run(cmd, env=drill_env(sqlite_url), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--metrics-port must differ from --port" in done.stderr


def start_worker(database_url: str, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "showfloor", "worker", *args]
    return subprocess.Popen(
        cmd, env=drill_env(database_url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def test_worker_serves_its_own_metrics(sqlite_url: str) -> None:
    """A worker on a machine without ``serve``: its counters (charges counted when a task closes,
    provider calls) are scraped from its own listener."""
    port = free_port()
    proc = start_worker(sqlite_url, "--metrics-port", str(port))
    try:
        assert await wait_status(f"http://127.0.0.1:{port}", "/metrics", 200, 120), (
            "no worker metrics listener"
        )
        async with httpx.AsyncClient(timeout=10) as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert "# TYPE showfloor_credits_charged_total counter" in text
        assert "# TYPE showfloor_provider_calls_total counter" in text
    finally:
        assert stop_process(proc) == 0
