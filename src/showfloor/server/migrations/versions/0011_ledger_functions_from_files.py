"""PostgreSQL functions from the package's ``.sql`` files, their one home (``db.sql_functions``).

* ``ledger_spend`` gains ``p_account_locked`` (a caller already holding the account row lock takes no
  second one) and ``ledger_settle`` settles a batch of captures and releases of one hold in one call. Both
  are installed from the package's ``.sql`` files (``db.sql_functions.install``), the only place their text
  lives; a change to a file ships with a migration that installs it again.
* ``unlock_settle_items`` and ``unlock_finish_task`` (0009) give way to ``unlock_settle``
  (``unlocks/sql/unlock_settle.sql``): a group of one task's items with one ``ledger_settle`` call; the
  task is closed by the Python ``unlocks.settlement.finish_task``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

from showfloor.server.db import sql_functions

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OLD_SPEND = "ledger_spend(text, bigint, bigint, text, timestamptz, bigint, text, text, text, text)"
OLD_SETTLE = "ledger_settle(text, bigint, bigint, text, timestamptz, bigint, bigint, text, text, text, text)"
NEW_SPEND = "ledger_spend(text, bigint, bigint, text, timestamptz, bigint, text, text, text, text, boolean)"
NEW_SETTLE = (
    "ledger_settle(bigint, text[], bigint[], text[], timestamptz, bigint, boolean[], bigint[], text[], "
    "text[], text[], text[])"
)
NEW_UNLOCK_SETTLE = "unlock_settle(bigint[], text[], text[], text[], timestamptz)"
UNLOCK_FUNCTIONS = (
    "unlock_settle_items(bigint[], text[], text[], text[], timestamptz)",
    "unlock_finish_task(bigint, timestamptz)",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite runs the Python twins
    for signature in (*UNLOCK_FUNCTIONS, OLD_SPEND, OLD_SETTLE):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    sql_functions.install(op.get_bind())


def _migration(name: str) -> ModuleType:
    """An earlier migration module (their names start with a digit, so they are loaded by path)."""
    path = next(Path(__file__).parent.glob(f"{name}_*.py"))
    spec = importlib.util.spec_from_file_location(f"showfloor_migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS {NEW_SPEND}")
    op.execute(f"DROP FUNCTION IF EXISTS {NEW_SETTLE}")
    op.execute(f"DROP FUNCTION IF EXISTS {NEW_UNLOCK_SETTLE}")
    previous = _migration("0008")
    op.execute(previous.SPEND)
    op.execute(previous.SETTLE)
    settle_items = _migration("0009")
    for sql in (settle_items.FINISH_TASK, settle_items.SETTLE_ITEMS):
        op.execute(sa.text(sql.replace(":", r"\:")))
