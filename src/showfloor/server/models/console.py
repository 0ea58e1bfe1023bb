"""Console sign-in: the people of an account, their one-time setup links, sessions and failed sign-ins.

Every secret here is stored as a SHA-256 digest (link and session tokens carry 256 random bits, so a
slow hash adds nothing); passwords are Argon2 hashes. See docs/console.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class ConsoleUser(Base):
    """A person who signs in to the console. Belongs to exactly one account."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    # NULL until the person sets a password through a one-time link.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    password_set_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ConsoleLink(Base):
    """A one-time link to set (or reset) a password. Issuing a new one voids the older unused ones."""

    __tablename__ = "console_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ConsoleSession(Base):
    """A signed-in browser. Valid until revoked, idle too long, or past its absolute lifetime."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Refreshed at most once a minute (a page view does not always write).
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ConsoleLoginFailure(Base):
    """One failed sign-in, counted per email and per client address (``scope``) to throttle guessing.
    ``subject`` is a SHA-256 digest, so the table keeps no list of typed emails or addresses."""

    __tablename__ = "console_login_failures"
    __table_args__ = (Index("ix_console_login_failures_subject", "scope", "subject", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # "email" | "ip"
    subject: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
