"""The PostgreSQL functions have one home each: their ``sql/*.sql`` file in the package
(``db.sql_functions``). The database the migrations built holds exactly that text (no stale copy from an
older migration), one overload each."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from showfloor.server.db import sql_functions
from showfloor.server.db.uow import Database


async def test_each_function_is_exactly_its_file(pg_db: Database) -> None:
    probe = f"probe_{uuid.uuid4().hex[:8]}"
    async with pg_db.engine.connect() as conn:
        # The file installed into a scratch schema: its full definition (arguments, results, language,
        # body) as PostgreSQL prints it, to compare with what the migrations left in ``public``.
        await conn.execute(text(f'CREATE SCHEMA "{probe}"'))
        try:
            await conn.execute(text(f'SET search_path TO "{probe}"'))
            for package, name in sql_functions.FUNCTIONS:
                await conn.exec_driver_sql(sql_functions.source(package, name))
            await conn.execute(text("SET search_path TO public"))
            for package, name in sql_functions.FUNCTIONS:
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
                assert by_schema["public"][1] == sql_functions.body(package, name)
                expected = by_schema[probe][0].replace(f"{probe}.", "public.")
                assert by_schema["public"][0] == expected
        finally:
            await conn.execute(text(f'DROP SCHEMA "{probe}" CASCADE'))
            await conn.commit()


async def test_the_body_is_read_from_the_file() -> None:
    for package, name in sql_functions.FUNCTIONS:
        assert f"FUNCTION {name}(" in sql_functions.source(package, name)
        assert sql_functions.body(package, name).strip().startswith("DECLARE")
