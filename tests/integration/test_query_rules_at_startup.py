"""The table of single-valued query parameters is read from the OpenAPI document, which takes over a
second of CPU to build: it is built while the server starts, never on a customer's first request."""

from __future__ import annotations

from showfloor.server.app import create_app
from showfloor.server.config import Settings


async def test_the_query_rules_are_built_at_start_up(settings: Settings) -> None:
    app = create_app(settings, run_background_jobs=False)
    assert getattr(app.state, "scalar_query_params", None) is None
    async with app.router.lifespan_context(app):
        table = app.state.scalar_query_params
        assert "country" in table[("GET", "/external/events/list")]
