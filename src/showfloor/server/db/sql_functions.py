"""The PostgreSQL functions of the package: each one's text lives only in its ``.sql`` file, next to the
Python twin SQLite runs (AGENTS.md, "Fast paths we keep"). Migrations install them from the files; a
change to a file ships with a migration that calls ``install`` again, and a test checks that the
database holds exactly each file's definition."""

from __future__ import annotations

import re
from importlib.resources import files

from sqlalchemy.engine import Connection

# (package, function name): the file is ``<package>/sql/<name>.sql``. Installed in this order
# (``unlock_settle`` calls ``ledger_settle``; PL/pgSQL resolves calls at run time, the order is for readers).
FUNCTIONS = (
    ("showfloor.server.ledger", "ledger_spend"),
    ("showfloor.server.ledger", "ledger_settle"),
    ("showfloor.server.unlocks", "unlock_settle"),
)


def source(package: str, name: str) -> str:
    """The text of ``<package>/sql/<name>.sql``: the one home of the function's definition."""
    return files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def body(package: str, name: str) -> str:
    """The function body as PostgreSQL stores it (``pg_proc.prosrc``): the text between ``AS $$`` and ``$$``."""
    match = re.search(r"AS \$\$(.*)\$\$;", source(package, name), re.DOTALL)
    assert match is not None, f"{package} sql/{name}.sql has no $$ body"
    return match.group(1)


def install(connection: Connection) -> None:
    """Create or replace every function from its file (the migrations call this)."""
    for package, name in FUNCTIONS:
        connection.exec_driver_sql(source(package, name))
