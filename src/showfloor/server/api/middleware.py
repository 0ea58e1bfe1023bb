"""Pure-ASGI middleware: a request id on every response (``X-Request-ID``) and one log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from showfloor.server.logging import account_id_var, key_prefix_var, request_id_var
from showfloor.server.metrics import REQUEST_LATENCY

log = logging.getLogger("showfloor.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode() for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if _SAFE_ID.match(incoming) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        tokens = (request_id_var.set(request_id), account_id_var.set(None), key_prefix_var.set(None))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            elapsed = time.perf_counter() - started
            # Label by route template, never the raw path (ids would explode the series count).
            route_label = getattr(route, "path", None) or "unmatched"
            REQUEST_LATENCY.labels(route_label, scope["method"], str(status)).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": getattr(route, "path", None),
                    "status": status,
                    "client": (scope.get("client") or ("",))[0],  # behind trusted proxies: the real client
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(tokens[0])
            account_id_var.reset(tokens[1])
            key_prefix_var.reset(tokens[2])
