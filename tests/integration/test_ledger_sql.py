"""The ledger's PostgreSQL functions have one home: ``showfloor/server/ledger/sql/*.sql``. The database the
migrations built holds exactly that text (no stale copy from an older migration), one overload each."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from showfloor.server.db.uow import Database
from showfloor.server.ledger import functions


async def test_each_ledger_function_is_exactly_its_file(pg_db: Database) -> None:
    probe = f"probe_{uuid.uuid4().hex[:8]}"
    async with pg_db.engine.connect() as conn:
        # The file installed into a scratch schema: its full definition (arguments, results, language,
        # body) as PostgreSQL prints it, to compare with what the migrations left in ``public``.
        await conn.execute(text(f'CREATE SCHEMA "{probe}"'))
        try:
            await conn.execute(text(f'SET search_path TO "{probe}"'))
            for name in functions.FUNCTIONS:
                await conn.exec_driver_sql(functions.source(name))
            await conn.execute(text("SET search_path TO public"))
            for name in functions.FUNCTIONS:
                installed = (
                    await conn.execute(
                        text(
                            "SELECT n.nspname, pg_get_functiondef(p.oid), p.prosrc FROM pg_proc p "
                            "JOIN pg_namespace n ON n.oid = p.pronamespace "
                            "WHERE p.proname = :name AND n.nspname IN ('public', :probe)"
                        ),
                        {"name": name, "probe": probe},
                    )
                ).all()
                by_schema = {schema: (definition, body) for schema, definition, body in installed}
                assert sorted(by_schema) == [probe, "public"], f"one {name} in public, none elsewhere"
                assert by_schema["public"][1] == functions.body(name)
                expected = by_schema[probe][0].replace(f"{probe}.", "public.")
                assert by_schema["public"][0] == expected
        finally:
            await conn.execute(text(f'DROP SCHEMA "{probe}" CASCADE'))
            await conn.commit()


async def test_the_body_is_read_from_the_file() -> None:
    for name in functions.FUNCTIONS:
        assert f"FUNCTION {name}(" in functions.source(name)
        assert functions.body(name).strip().startswith("DECLARE")
