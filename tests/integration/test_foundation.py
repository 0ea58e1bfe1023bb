"""Health, readiness, request ids, authentication (every 401 case) and the error body."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from showfloor.server.accounts import service as accounts
from showfloor.server.accounts.keys import generate_key, hash_key
from showfloor.server.db.uow import Database
from tests.conftest import AccountFixture, new_account


def assert_error_body(resp: httpx.Response, status: int, key: str) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) >= {"code", "message", "errorKey", "traceId"}
    assert body["code"] == status
    assert body["errorKey"] == key
    assert isinstance(body["message"], str) and body["message"]
    assert body["traceId"] == resp.headers["x-request-id"]
    return dict(body)


async def test_healthz_and_readyz(app_client: httpx.AsyncClient) -> None:
    assert (await app_client.get("/healthz")).json() == {"status": "ok"}
    ready = await app_client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_request_id_generated_or_echoed(app_client: httpx.AsyncClient) -> None:
    generated = await app_client.get("/healthz")
    assert len(generated.headers["x-request-id"]) >= 8
    echoed = await app_client.get("/healthz", headers={"X-Request-ID": "client-trace-123"})
    assert echoed.headers["x-request-id"] == "client-trace-123"
    unsafe = await app_client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert unsafe.headers["x-request-id"] != "bad id with spaces"


async def test_unknown_route_uses_error_body(app_client: httpx.AsyncClient) -> None:
    assert_error_body(await app_client.get("/external/nope"), 404, "NOT_FOUND")


PAID_ROUTE = "/external/exhibitors/search-by-company-name"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic abc",
        "Bearer not-a-key",
        f"Bearer {generate_key()}",  # well formed, unknown
    ],
    ids=["missing", "empty", "no-key", "wrong-scheme", "malformed", "unknown"],
)
async def test_401_cases(app_client: httpx.AsyncClient, db: Database, header: str | None) -> None:
    await new_account(db)
    headers = {} if header is None else {"Authorization": header}
    assert_error_body(
        await app_client.get("/external/credits/balance", headers=headers), 401, "INVALID_API_KEY"
    )
    paid = await app_client.post(PAID_ROUTE, headers=headers, json={"company_name": "acme"})
    assert_error_body(paid, 401, "INVALID_API_KEY")  # paid routes authenticate by a statement of their own


async def test_revoked_key_is_refused(
    app_client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    ok = await app_client.get("/external/credits/balance", headers=account.headers)
    assert ok.status_code == 200
    async with db.write() as session:
        await accounts.revoke_key(session, key_id=account.key_id)
    assert_error_body(
        await app_client.get("/external/credits/balance", headers=account.headers), 401, "INVALID_API_KEY"
    )
    paid = await app_client.post(PAID_ROUTE, headers=account.headers, json={"company_name": "acme"})
    assert_error_body(paid, 401, "INVALID_API_KEY")


async def test_scheme_is_case_insensitive_and_uak_keys_work(
    app_client: httpx.AsyncClient, db: Database
) -> None:
    async with db.write() as session:
        acct = await accounts.create_account(session, "legacy")
        issued = await accounts.create_key(session, acct.id, kind="uak")
    assert issued.key.startswith("uak_")
    resp = await app_client.get(
        "/external/credits/balance", headers={"Authorization": f"bearer {issued.key}"}
    )
    assert resp.status_code == 200


async def test_keys_are_stored_hashed(db: Database, account: AccountFixture) -> None:
    async with db.read() as session:
        rows = await accounts.list_keys(session, account.id)
    assert len(rows) == 1
    assert rows[0].key_hash == hash_key(account.key)
    assert account.key not in (rows[0].key_hash, rows[0].prefix)
    assert account.key.startswith(rows[0].prefix + "_")


async def test_migrations_match_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from showfloor.server.catalog import search
    from showfloor.server.db.base import Base

    engine: AsyncEngine = db.engine

    def diff(sync_conn: object) -> list[object]:
        # The model-less keyword-search objects (FTS5 tables, trigram indexes) are not compared.
        opts = {"compare_type": True, "include_name": search.include_name}
        ctx = MigrationContext.configure(sync_conn, opts=opts)  # type: ignore[arg-type]
        return list(compare_metadata(ctx, Base.metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_unreachable_database_answers_503_not_500() -> None:
    from showfloor.server.app import create_app
    from showfloor.server.config import Settings

    settings = Settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none", rate_limit_enabled=False
    )
    app = create_app(settings, run_background_jobs=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503
        resp = await client.get(
            "/external/credits/balance", headers={"Authorization": f"Bearer {generate_key()}"}
        )
        assert_error_body(resp, 503, "SERVICE_UNAVAILABLE")
        assert resp.headers["retry-after"] == "1"


async def test_single_valued_query_parameter_given_twice_is_refused(client: httpx.AsyncClient) -> None:
    body = assert_error_body(
        await client.get("/external/credits/transactions", params=[("page", "1"), ("page", "2")]),
        400,
        "INVALID_REQUEST",
    )
    assert body["details"] == {"params": ["page"]}
    assert (await client.get("/external/credits/transactions", params={"page": "1"})).status_code == 200


async def test_absurd_page_numbers_are_a_400_not_a_500(client: httpx.AsyncClient) -> None:
    from showfloor.server.api.pagination import MAX_PAGE

    last = await client.get("/external/credits/transactions", params={"page": MAX_PAGE, "pageSize": 100})
    assert last.status_code == 200 and last.json()["items"] == []
    for page in (MAX_PAGE + 1, 590874745492440930272149504):
        body = assert_error_body(
            await client.get("/external/credits/transactions", params={"page": page}), 400, "INVALID_REQUEST"
        )
        assert body["details"][0]["field"] == "page"
    assert_error_body(
        await client.get("/external/events/list", params={"page": MAX_PAGE + 1}), 400, "INVALID_REQUEST"
    )
