"""Running the real CLI for the paid-flow and reading tests: a subprocess (optionally on a pseudo-terminal)
against a real ``showfloor serve``; servers with settings of their own (no worker, tight rate limits)."""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.client.live import SHOWFLOOR, Account, LiveServer, _seed, serve


def cli_env(server: LiveServer, account: Account | None, **extra: str) -> dict[str, str]:
    env = {**server.env, "SHOWFLOOR_BASE_URL": server.base_url, "COLUMNS": "200", **extra}
    if account is not None:
        env["SHOWFLOOR_API_KEY"] = account.key
    return env


def run(
    server: LiveServer, account: Account | None, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SHOWFLOOR, *args],
        env=cli_env(server, account, **env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(server: LiveServer, account: Account, *args: str) -> Any:
    done = run(server, account, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@dataclass
class Screen:
    code: int
    before_answer: str  # everything the terminal showed up to the moment the prompt was answered
    text: str  # everything


def run_in_pty(
    server: LiveServer, account: Account, args: list[str], answer: str, prompt: bytes = b"Spend up to"
) -> Screen:
    """The CLI with a pseudo-terminal as stdin, stdout and stderr; ``answer`` typed once ``prompt`` shows."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [*SHOWFLOOR, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=cli_env(server, account),
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    before: bytes | None = None
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
                if before is None and prompt in seen:
                    before = seen
                    os.write(master, answer.encode() + b"\n")
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
    text = seen.decode(errors="replace")
    assert before is not None, text
    return Screen(code, before.decode(errors="replace"), text)


def start_server_with(tmp: Path, **settings: str) -> Iterator[LiveServer]:
    """``tests.client.live.start_server`` with extra ``SHOWFLOOR_*`` settings."""
    database_url = f"sqlite+aiosqlite:///{tmp / 'live.db'}"
    env = {
        **os.environ,
        "SHOWFLOOR_DATABASE_URL": database_url,
        "SHOWFLOOR_RATE_LIMIT_ENABLED": "false",
        "SHOWFLOOR_LOG_LEVEL": "WARNING",
        "SHOWFLOOR_WORKER_POLL_SECONDS": "0.1",
        "SHOWFLOOR_WORKER_RETRY_BASE_SECONDS": "0",
        **settings,
    }
    for name in ("SHOWFLOOR_API_KEY", "LENSMOR_API_KEY", "SHOWFLOOR_BASE_URL"):
        env.pop(name, None)
    subprocess.run([*SHOWFLOOR, "admin", "migrate"], env=env, check=True, capture_output=True, timeout=120)
    catalog = asyncio.run(_seed(database_url))
    server = serve(env, tmp)
    try:
        yield LiveServer(base_url=next(server), env=env, catalog=catalog)
    finally:
        server.close()


def python() -> str:
    return sys.executable
