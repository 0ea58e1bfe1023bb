"""``GET /metrics``: Prometheus text format (unauthenticated; expose it only on the operator network)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from showfloor.server import metrics
from showfloor.server.api.deps import DB

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def prometheus_metrics(db: DB) -> Response:
    async with db.read() as session:
        for refresh in metrics.GAUGE_REFRESHERS:
            await refresh(session)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
