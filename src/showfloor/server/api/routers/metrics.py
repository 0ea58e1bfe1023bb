"""``GET /metrics``: Prometheus text format, never open on the public API port.

It answers on the metrics listener (``showfloor serve --metrics-port``, ``SHOWFLOOR_METRICS_PORT``) or, on
the API port, to ``Authorization: Bearer <SHOWFLOOR_METRICS_TOKEN>``; anyone else gets 404 as for an
unknown path (a wrong token: 401).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from showfloor.server import metrics
from showfloor.server.api.deps import DB, bearer_key
from showfloor.server.config import Settings
from showfloor.server.errors import NotFound, Unauthorized

router = APIRouter(tags=["operations"])


def on_metrics_listener(request: Request, settings: Settings) -> bool:
    """Whether the request came in on the metrics listener (the local port it was accepted on)."""
    server = request.scope.get("server")
    return settings.metrics_port is not None and server is not None and server[1] == settings.metrics_port


def check_scraper(request: Request, settings: Settings) -> None:
    if on_metrics_listener(request, settings):
        return
    authorization = request.headers.get("authorization")
    if settings.metrics_token is None or authorization is None:
        raise NotFound("Resource not found")
    if not hmac.compare_digest(bearer_key(authorization).encode(), settings.metrics_token.encode()):
        raise Unauthorized("Invalid metrics token")


# Not in the API's OpenAPI document: an operators' endpoint, not part of the customer contract.
@router.get("/metrics", response_class=Response, include_in_schema=False)
async def prometheus_metrics(db: DB, request: Request) -> Response:
    check_scraper(request, request.app.state.settings)
    async with db.read() as session:
        for refresh in metrics.GAUGE_REFRESHERS:
            await refresh(session)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
