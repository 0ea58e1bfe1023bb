"""Catalog tables: events, exhibitors (companies), their presence at events, personnel (people) and their
attendance at events. Contact data (email, phone) is stored here but only shown to accounts that
unlocked it (see ``showfloor.server.access``).

Identifiers: every table has an internal numeric ``id``. Events also have the public ``event_id``
(the reference's ``eventId``, accepted wherever an event id is). ``external_id`` on every table is the
operator's own key, used by importers to update in place.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)  # public id ("eventId")
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(300))
    nickname: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    image: Mapped[str | None] = mapped_column(String(500), nullable=True)
    date_start: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    date_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    venue: Mapped[str | None] = mapped_column(String(300), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    country: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    latitude: Mapped[str | None] = mapped_column(String(32), nullable=True)
    longitude: Mapped[str | None] = mapped_column(String(32), nullable=True)
    event_type: Mapped[str | None] = mapped_column(
        String(50), nullable=True
    )  # e.g. "conference", "trade_show"
    quality: Mapped[str | None] = mapped_column(String(20), nullable=True)  # list filter "quality[]"
    categories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    attendee_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    price_lower: Mapped[str | None] = mapped_column(String(32), nullable=True)
    price_upper: Mapped[str | None] = mapped_column(String(32), nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    sponsor_match_starred: Mapped[bool] = mapped_column(Boolean, default=False)
    # Counts kept by every write path (data/counts.py) so unfiltered lists need no COUNT over joins.
    exhibitor_count: Mapped[int] = mapped_column(Integer, default=0)
    personnel_count: Mapped[int] = mapped_column(Integer, default=0)
    visitor_count: Mapped[int] = mapped_column(Integer, default=0)  # hasVisitors = visitor_count > 0
    contact_count: Mapped[int] = mapped_column(Integer, default=0)  # people with any contact data
    # The two sides of personnel_count (migration 0017): rows not visitor-only (the list's total while
    # the visitor layer is locked) and visitor-only rows (what the visitor layer adds).
    exhibitor_personnel_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    visitor_personnel_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    data_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Exhibitor(Base):
    """A company. Its presence at events is ``EventExhibitor``."""

    __tablename__ = "exhibitors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    company_name: Mapped[str] = mapped_column(String(300), index=True)
    domain: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    website: Mapped[str | None] = mapped_column(String(500), nullable=True)
    industry: Mapped[str | None] = mapped_column(String(200), nullable=True)
    employee_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    country: Mapped[str | None] = mapped_column(String(100), nullable=True)
    logo: Mapped[str | None] = mapped_column(String(500), nullable=True)
    linkedin_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    funding_round: Mapped[str | None] = mapped_column(String(50), nullable=True)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    tech_stacks: Mapped[list[str]] = mapped_column(JSON, default=list)
    data_source: Mapped[str | None] = mapped_column(String(50), nullable=True)


class EventExhibitor(Base):
    """An exhibitor at an event. Ordered by ``rank`` (booth/priority order) inside an event."""

    __tablename__ = "event_exhibitors"
    __table_args__ = (
        UniqueConstraint("event_id", "exhibitor_id"),
        Index("ix_event_exhibitors_event_rank", "event_id", "rank"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    booth: Mapped[str | None] = mapped_column(String(50), nullable=True)


class Personnel(Base):
    """A person. Contact data lives here; whether an account may see it is ``ContactUnlock``."""

    __tablename__ = "personnel"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    full_name: Mapped[str] = mapped_column(String(200))
    full_name_norm: Mapped[str] = mapped_column(String(200), index=True)  # lower(trim) for exact lookups
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    department: Mapped[str | None] = mapped_column(String(100), nullable=True)
    seniority_level: Mapped[str | None] = mapped_column(String(50), nullable=True)
    linkedin_url: Mapped[str | None] = mapped_column(String(500), nullable=True, index=True)
    company_name: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("exhibitors.id", ondelete="SET NULL"), nullable=True, index=True
    )
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # Opted out of enrichment: never delivered, reported "ineligible".
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    linkedin_activity_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    linkedin_latest_post_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EventPersonnel(Base):
    """A person's attendance at an event. ``source_types``: any of exhibitor, social, visitors."""

    __tablename__ = "event_personnel"
    __table_args__ = (
        UniqueConstraint("event_id", "personnel_id"),
        Index("ix_event_personnel_event_rank", "event_id", "rank"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    personnel_id: Mapped[int] = mapped_column(ForeignKey("personnel.id", ondelete="CASCADE"), index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("exhibitors.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # True when the person is only a registered visitor (hidden until the visitor layer is unlocked).
    is_visitor_only: Mapped[bool] = mapped_column(Boolean, default=False)
    rank: Mapped[int] = mapped_column(Integer, default=0)
