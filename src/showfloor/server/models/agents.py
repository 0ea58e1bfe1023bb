"""Agent quotes: a price an agent asked for, stored so that only an approved quote can be executed once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from showfloor.server.db.base import Base, BigId, UtcDateTime


class AgentQuote(Base):
    """One quote: bound to the account, the key that asked and the exact parameters; single-use; expires.

    ``status``: ``pending`` until executed (then ``executed``, with the stored result that a repeated
    execute returns) or refused by the owner (``refused``, never executable). ``approved_via``: ``key``
    (another key of the account approved it), ``console`` (the owner, signed in), ``elicitation``
    (the user answered through the MCP client) or ``budget`` (the key's daily agent budget covered it at
    execution); None while unapproved.
    """

    __tablename__ = "agent_quotes"
    __table_args__ = (Index("ix_agent_quotes_key_budget_day", "api_key_id", "approved_via", "executed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    action: Mapped[str] = mapped_column(String(64))
    params: Mapped[Any] = mapped_column(JSON)
    credits: Mapped[int] = mapped_column(Integer)
    detail: Mapped[Any] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    approved_via: Mapped[str | None] = mapped_column(String(16), nullable=True)
    approved_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    executed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    charged: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
