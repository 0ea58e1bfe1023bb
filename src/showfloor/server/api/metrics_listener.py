"""The metrics listener (``serve --metrics-port``) serves only ``/metrics`` and the health checks: the API
is not reachable through the operators' port, whatever the network lets through."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from showfloor.server.api.errors import error_response

SERVED = frozenset({"/metrics", "/healthz", "/readyz"})


class MetricsListenerOnly:
    def __init__(self, app: ASGIApp, metrics_port: int) -> None:
        self.app = app
        self.metrics_port = metrics_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if (
            scope["type"] == "http"
            and server is not None
            and server[1] == self.metrics_port
            and scope["path"] not in SERVED
        ):
            response = error_response(Request(scope), "NOT_FOUND", "Not served on the metrics listener")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
