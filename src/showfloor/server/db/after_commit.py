"""Actions that run only once a unit's transaction has committed (e.g. counting a charge in a metric):
queued on the session, run by SQLAlchemy's ``after_commit``, dropped by a rollback."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_KEY = "showfloor_after_commit"


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    session.sync_session.info.setdefault(_KEY, []).append(action)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for action in session.info.pop(_KEY, ()):
        action()


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_KEY, None)
