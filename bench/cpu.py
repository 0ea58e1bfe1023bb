"""CPU time per request, read from /proc: where a benchmark phase spent the machine's cores.

``CpuMeter(server_pid)`` sums user+system time of the server process tree (``showfloor serve`` and its
worker processes), of every PostgreSQL backend, and of this (client) process. ``phase_cost`` turns two
samples and a request count into milliseconds of CPU per request for each. Linux only (a benchmark aid).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_and_ppid(pid: int) -> tuple[float, int] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[1])


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class CpuSample:
    server: float
    postgres: float
    client: float


def _title(pid: int) -> str:
    """A PostgreSQL backend's process title: ``postgres: <user> <database> <client> <state>``."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CpuMeter:
    """``database``: count only the PostgreSQL backends connected to it (on a machine shared with other
    work, other databases' backends come and go; one that exits takes its CPU out of the sum)."""

    def __init__(self, server_pid: int, database: str | None = None) -> None:
        self.server_pid = server_pid
        self.database = database

    def _is_counted_postgres(self, pid: int) -> bool:
        if _comm(pid) != "postgres":
            return False
        return self.database is None or f" {self.database} " in _title(pid)

    def sample(self) -> CpuSample:
        procs: dict[int, tuple[float, int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (info := _cpu_and_ppid(int(entry))) is not None:
                procs[int(entry)] = info
        tree = {self.server_pid}
        grew = True
        while grew:
            grew = False
            for pid, (_, ppid) in procs.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        server = sum(procs[p][0] for p in tree if p in procs)
        postgres = sum(cpu for pid, (cpu, _) in procs.items() if self._is_counted_postgres(pid))
        client = procs.get(os.getpid(), (0.0, 0))[0]
        return CpuSample(server, postgres, client)


def phase_cost(before: CpuSample, after: CpuSample, requests: int) -> str:
    """``server 3.1 / postgres 0.8 / client 1.0 ms CPU per request``."""
    n = max(requests, 1)
    parts = [
        f"{name} {1000 * (getattr(after, name) - getattr(before, name)) / n:.2f}"
        for name in ("server", "postgres", "client")
    ]
    return " / ".join(parts) + " ms CPU per request"


def process_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (0 for any that has exited)."""
    return sum(info[0] for pid in pids if (info := _cpu_and_ppid(pid)) is not None)
