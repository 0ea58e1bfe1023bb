"""Catalog: events, exhibitors, personnel and their contact data (owned by the catalog work).

Besides the model tables this creates the keyword-search objects, which have no model (see
``showfloor.server.catalog.search``): on SQLite one external-content FTS5 table per searchable table,
kept in sync by triggers; on PostgreSQL the ``pg_trgm`` extension and GIN trigram indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from showfloor.server.db.base import BigId, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table -> searchable columns. Names must match showfloor.server.catalog.search.
SEARCH_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("name",),
    "exhibitors": ("company_name",),
    "personnel": ("full_name", "title", "company_name"),
}


def upgrade() -> None:
    _create_events()
    _create_exhibitors()
    _create_event_exhibitors()
    _create_personnel()
    _create_event_personnel()
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite_fts()
    else:
        _create_pg_trigram()


def _create_events() -> None:
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("nickname", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("image", sa.String(500), nullable=True),
        sa.Column("date_start", sa.Date(), nullable=True),
        sa.Column("date_end", sa.Date(), nullable=True),
        sa.Column("venue", sa.String(300), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("country", sa.String(100), nullable=True),
        sa.Column("latitude", sa.String(32), nullable=True),
        sa.Column("longitude", sa.String(32), nullable=True),
        sa.Column("event_type", sa.String(50), nullable=True),
        sa.Column("quality", sa.String(20), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("attendee_count", sa.Integer(), nullable=True),
        sa.Column("price_lower", sa.String(32), nullable=True),
        sa.Column("price_upper", sa.String(32), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("sponsor_match_starred", sa.Boolean(), nullable=False),
        sa.Column("exhibitor_count", sa.Integer(), nullable=False),
        sa.Column("personnel_count", sa.Integer(), nullable=False),
        sa.Column("visitor_count", sa.Integer(), nullable=False),
        sa.Column("contact_count", sa.Integer(), nullable=False),
        sa.Column("data_updated_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
        sa.UniqueConstraint("external_id", name=op.f("uq_events_external_id")),
    )
    op.create_index(op.f("ix_events_date_start"), "events", ["date_start"])
    op.create_index(op.f("ix_events_country"), "events", ["country"])


def _create_exhibitors() -> None:
    op.create_table(
        "exhibitors",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("company_name", sa.String(300), nullable=False),
        sa.Column("domain", sa.String(255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("website", sa.String(500), nullable=True),
        sa.Column("industry", sa.String(200), nullable=True),
        sa.Column("employee_count", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(100), nullable=True),
        sa.Column("logo", sa.String(500), nullable=True),
        sa.Column("linkedin_url", sa.String(500), nullable=True),
        sa.Column("funding_round", sa.String(50), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("tech_stacks", sa.JSON(), nullable=False),
        sa.Column("data_source", sa.String(50), nullable=True),
        sa.UniqueConstraint("external_id", name=op.f("uq_exhibitors_external_id")),
    )
    op.create_index(op.f("ix_exhibitors_company_name"), "exhibitors", ["company_name"])
    op.create_index(op.f("ix_exhibitors_domain"), "exhibitors", ["domain"])


def _create_event_exhibitors() -> None:
    op.create_table(
        "event_exhibitors",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "event_id",
            BigId,
            sa.ForeignKey("events.id", ondelete="CASCADE", name=op.f("fk_event_exhibitors_event_id_events")),
            nullable=False,
        ),
        sa.Column(
            "exhibitor_id",
            BigId,
            sa.ForeignKey(
                "exhibitors.id", ondelete="CASCADE", name=op.f("fk_event_exhibitors_exhibitor_id_exhibitors")
            ),
            nullable=False,
        ),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("booth", sa.String(50), nullable=True),
        sa.UniqueConstraint(
            "event_id", "exhibitor_id", name=op.f("uq_event_exhibitors_event_id_exhibitor_id")
        ),
    )
    op.create_index("ix_event_exhibitors_event_rank", "event_exhibitors", ["event_id", "rank"])
    op.create_index(op.f("ix_event_exhibitors_exhibitor_id"), "event_exhibitors", ["exhibitor_id"])


def _create_personnel() -> None:
    op.create_table(
        "personnel",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("full_name_norm", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=True),
        sa.Column("department", sa.String(100), nullable=True),
        sa.Column("seniority_level", sa.String(50), nullable=True),
        sa.Column("linkedin_url", sa.String(500), nullable=True),
        sa.Column("company_name", sa.String(300), nullable=True),
        sa.Column(
            "exhibitor_id",
            BigId,
            sa.ForeignKey(
                "exhibitors.id", ondelete="SET NULL", name=op.f("fk_personnel_exhibitor_id_exhibitors")
            ),
            nullable=True,
        ),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("linkedin_activity_level", sa.String(20), nullable=True),
        sa.Column("linkedin_latest_post_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("external_id", name=op.f("uq_personnel_external_id")),
    )
    op.create_index(op.f("ix_personnel_full_name_norm"), "personnel", ["full_name_norm"])
    op.create_index(op.f("ix_personnel_linkedin_url"), "personnel", ["linkedin_url"])
    op.create_index(op.f("ix_personnel_company_name"), "personnel", ["company_name"])
    op.create_index(op.f("ix_personnel_exhibitor_id"), "personnel", ["exhibitor_id"])


def _create_event_personnel() -> None:
    op.create_table(
        "event_personnel",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "event_id",
            BigId,
            sa.ForeignKey("events.id", ondelete="CASCADE", name=op.f("fk_event_personnel_event_id_events")),
            nullable=False,
        ),
        sa.Column(
            "personnel_id",
            BigId,
            sa.ForeignKey(
                "personnel.id", ondelete="CASCADE", name=op.f("fk_event_personnel_personnel_id_personnel")
            ),
            nullable=False,
        ),
        sa.Column(
            "exhibitor_id",
            BigId,
            sa.ForeignKey(
                "exhibitors.id", ondelete="SET NULL", name=op.f("fk_event_personnel_exhibitor_id_exhibitors")
            ),
            nullable=True,
        ),
        sa.Column("source_types", sa.JSON(), nullable=False),
        sa.Column("is_visitor_only", sa.Boolean(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "event_id", "personnel_id", name=op.f("uq_event_personnel_event_id_personnel_id")
        ),
    )
    op.create_index("ix_event_personnel_event_rank", "event_personnel", ["event_id", "rank"])
    op.create_index(op.f("ix_event_personnel_personnel_id"), "event_personnel", ["personnel_id"])
    op.create_index(op.f("ix_event_personnel_exhibitor_id"), "event_personnel", ["exhibitor_id"])


def _create_sqlite_fts() -> None:
    for table, columns in SEARCH_COLUMNS.items():
        fts = f"{table}_fts"
        cols = ", ".join(columns)
        new_vals = ", ".join(f"new.{c}" for c in columns)
        old_vals = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new_vals}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old_vals}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old_vals}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new_vals}); END"
        )


def _create_pg_trigram() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in SEARCH_COLUMNS.items():
        for column in columns:
            op.execute(f"CREATE INDEX ix_{table}_{column}_trgm ON {table} USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SEARCH_COLUMNS:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
    for table in ("event_personnel", "personnel", "event_exhibitors", "exhibitors", "events"):
        op.drop_table(table)
