"""Catalog read paths at benchmark scale (PostgreSQL only; SQLite keeps its FTS5 search objects).

* ``event_personnel (event_id, rank, id) INCLUDE (is_visitor_only, exhibitor_id, personnel_id)``: the
  personnel list's count and page order (visitor-only rows filtered) as index-only scans.
* ``event_personnel (event_id, exhibitor_id) INCLUDE (is_visitor_only, personnel_id)``: the exhibitor
  list's per-exhibitor personnel filters (job title, level, department) probe one event's rows only.
* ``event_exhibitors (event_id, rank, id) INCLUDE (exhibitor_id)``: one event's exhibitors in list order.
* ``personnel_company_names``: the distinct ``personnel.company_name`` values with a trigram index, kept
  by statement triggers (COPY included). The contacts search matches the keyword against these few
  thousand names and then reads people by the B-tree on ``personnel.company_name``, instead of
  intersecting trigram posting lists that span a million people. Stale names (people deleted or
  renamed) are harmless: they only ever match no one.

Like the search objects of 0002 these have no model; ``catalog.search.include_name`` keeps them out of
the models-vs-migrations comparison.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = (
    "CREATE INDEX ix_event_personnel_event_rank_cover ON event_personnel (event_id, rank, id) "
    "INCLUDE (is_visitor_only, exhibitor_id, personnel_id)",
    "CREATE INDEX ix_event_personnel_event_exhibitor_cover ON event_personnel (event_id, exhibitor_id) "
    "INCLUDE (is_visitor_only, personnel_id)",
    "CREATE INDEX ix_event_exhibitors_event_rank_cover ON event_exhibitors (event_id, rank, id) "
    "INCLUDE (exhibitor_id)",
    "CREATE TABLE personnel_company_names ("
    "company_name VARCHAR(300) NOT NULL, CONSTRAINT pk_personnel_company_names PRIMARY KEY (company_name))",
    "INSERT INTO personnel_company_names (company_name) "
    "SELECT DISTINCT company_name FROM personnel WHERE company_name IS NOT NULL",
    "CREATE INDEX ix_personnel_company_names_company_name_trgm "
    "ON personnel_company_names USING gin (company_name gin_trgm_ops)",
    """CREATE FUNCTION personnel_company_names_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO personnel_company_names (company_name)
    SELECT DISTINCT company_name FROM new_rows WHERE company_name IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$""",
    "CREATE TRIGGER personnel_company_names_ai AFTER INSERT ON personnel REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION personnel_company_names_add()",
    "CREATE TRIGGER personnel_company_names_au AFTER UPDATE ON personnel REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION personnel_company_names_add()",
)

DOWNGRADE = (
    "DROP TRIGGER IF EXISTS personnel_company_names_au ON personnel",
    "DROP TRIGGER IF EXISTS personnel_company_names_ai ON personnel",
    "DROP FUNCTION IF EXISTS personnel_company_names_add()",
    "DROP TABLE IF EXISTS personnel_company_names",
    "DROP INDEX IF EXISTS ix_event_exhibitors_event_rank_cover",
    "DROP INDEX IF EXISTS ix_event_personnel_event_exhibitor_cover",
    "DROP INDEX IF EXISTS ix_event_personnel_event_rank_cover",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
