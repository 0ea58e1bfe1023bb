"""``/metrics``: request latency by route template, and database-derived ledger gauges."""

from __future__ import annotations

import httpx


async def test_metrics_exposes_request_latency_by_route(client: httpx.AsyncClient) -> None:
    assert (await client.get("/external/credits/balance")).status_code == 200
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    text = resp.text
    assert (
        'showfloor_http_request_duration_seconds_count{method="GET",route="/external/credits/balance",status="200"}'
        in text
    )
    assert "showfloor_credit_holds_outstanding 0.0" in text
