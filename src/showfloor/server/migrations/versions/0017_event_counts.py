"""Event rows keep the personnel list's two totals: attendance rows on the exhibitor side (not
visitor-only: what the list shows while the visitor layer is locked) and on the visitor side
(visitor-only rows: what the visitor layer adds). Backfilled from the rows in one grouped pass.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = ("exhibitor_personnel_count", "visitor_personnel_count")

# One grouped pass over the attendance rows (UPDATE … FROM: PostgreSQL, and SQLite since 3.33).
BACKFILL = """
UPDATE events SET
    exhibitor_personnel_count = counted.exhibitor_side,
    visitor_personnel_count = counted.visitor_side
FROM (
    SELECT event_id,
           SUM(CASE WHEN is_visitor_only THEN 0 ELSE 1 END) AS exhibitor_side,
           SUM(CASE WHEN is_visitor_only THEN 1 ELSE 0 END) AS visitor_side
    FROM event_personnel
    GROUP BY event_id
) AS counted
WHERE events.id = counted.event_id
"""


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("events", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.execute(BACKFILL)


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("events", name)
