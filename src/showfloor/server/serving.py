"""``showfloor serve``: uvicorn, and with ``--workers`` > 1 on Linux one listening socket per process.

uvicorn's multi-process mode binds one socket in the parent and every worker accepts from it. asyncio
accepts every pending connection each time it wakes, so whichever worker wakes first takes a burst of
keep-alive connections and keeps them for their lifetime: ``bench/paid.py``'s 16 clients landed 14 and 2
on two workers. One core then did nearly all the work while the other idled, and the busy worker's
database pool overflowed into a new connection per request.

On Linux each worker here binds its own socket with ``SO_REUSEPORT`` and the kernel spreads new
connections across those sockets by hash, as nginx's ``reuseport`` does. uvicorn's ``Multiprocess``
still supervises the workers (health checks, restarts, signals); it hands every new worker the same
``sockets`` argument, and ``_OwnSocket`` is a list that, when unpickled in a spawned worker, binds that
worker's own socket (this leans on how uvicorn 0.54, pinned, passes ``sockets`` to spawned workers;
tests/e2e/test_serve_processes.py fails if that changes). Elsewhere (no ``SO_REUSEPORT``, or one that does
not balance) uvicorn runs as is.
"""

from __future__ import annotations

import socket
import sys
from typing import Any, NoReturn

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

APP = "showfloor.server.asgi:make_app"


UVICORN_OPTIONS: dict[str, Any] = {
    "factory": True,
    "log_config": None,
    "access_log": False,
    # Nagle off on every connection (a socket uvicorn or we bind ourselves misses it): no 40 ms ACK
    # stalls on keep-alive responses.
    "http": "showfloor.server.http_protocol:NoDelayH11Protocol",
    # X-Forwarded-* are believed by the app, from SHOWFLOOR_TRUSTED_PROXIES only (api/proxies.py), not
    # by uvicorn's default (which trusts 127.0.0.1 and FORWARDED_ALLOW_IPS).
    "proxy_headers": False,
}


Listen = tuple[str, int]  # (host, port)


def serve(host: str, port: int, workers: int, metrics: Listen | None = None) -> None:
    """``metrics``: the metrics listener's address, already resolved (``resolve_port``) and announced to
    the app through ``SHOWFLOOR_METRICS_PORT``; every process serves the app on it as well."""
    if workers > 1 and balances_by_reuseport():
        serve_with_own_sockets(host, port, workers, metrics)
    elif metrics is None:
        uvicorn.run(APP, host=host, port=port, workers=workers, **UVICORN_OPTIONS)
    else:
        serve_on_two_sockets(host, port, workers, metrics)


def serve_on_two_sockets(host: str, port: int, workers: int, metrics: Listen) -> None:
    """The API and the metrics listener on sockets bound here (shared by uvicorn's workers, if any)."""
    config = uvicorn.Config(APP, host=host, port=port, workers=workers, **UVICORN_OPTIONS)
    sockets = [_bind(host, port, reuseport=False), _bind(*metrics, reuseport=False)]
    if workers > 1:
        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)


def balances_by_reuseport() -> bool:
    """Linux spreads connections over ``SO_REUSEPORT`` sockets; BSD and macOS let the option bind but
    do not balance, and Windows has no such option."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def serve_with_own_sockets(host: str, port: int, workers: int, metrics: Listen | None = None) -> None:
    port = port_if_free(host, port)
    if metrics is not None:
        metrics = (metrics[0], port_if_free(*metrics))
    config = uvicorn.Config(APP, host=host, port=port, workers=workers, **UVICORN_OPTIONS)
    Multiprocess(config, sockets=_OwnSocket(host, port, metrics)).run()  # handles SIGINT and SIGTERM itself


def port_if_free(host: str, port: int) -> int:
    """The port to bind (an ephemeral one for 0), after checking nothing listens on it.

    ``SO_REUSEPORT`` would let a second ``showfloor serve`` (or any program that sets it) share the port
    silently; a bind without it fails instead, so that case ends here with uvicorn's startup failure code.
    """
    probe = socket.socket(_family(host))
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections in TIME_WAIT are fine
        probe.bind((host, port))
        bound: int = probe.getsockname()[1]
        return bound
    except OSError as exc:
        _startup_failure(host, port, exc)
    finally:
        probe.close()


class _OwnSocket(list[socket.socket]):
    """Empty in the parent; in each spawned worker, unpickled as a list holding that worker's own socket."""

    def __init__(self, host: str, port: int, metrics: Listen | None = None) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.metrics = metrics

    def __reduce__(self) -> tuple[Any, tuple[str, int, Listen | None]]:
        return bind_reuseport, (self.host, self.port, self.metrics)


def bind_reuseport(host: str, port: int, metrics: Listen | None = None) -> list[socket.socket]:
    sockets = [_bind(host, port, reuseport=True)]
    if metrics is not None:
        sockets.append(_bind(*metrics, reuseport=True))
    return sockets


def _bind(host: str, port: int, *, reuseport: bool) -> socket.socket:
    sock = socket.socket(_family(host))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        _startup_failure(host, port, exc)  # the supervisor then stops instead of restarting the worker
    sock.set_inheritable(True)
    return sock


def resolve_port(host: str, port: int) -> int:
    """``port``, or for 0 a free one, checked free now (the app must know the metrics port it serves)."""
    return port_if_free(host, port)


def _startup_failure(host: str, port: int, exc: OSError) -> NoReturn:
    # stderr, not logging: neither the parent nor a worker still unpickling its arguments has it set up.
    print(f"showfloor serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
    sys.exit(STARTUP_FAILURE)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
