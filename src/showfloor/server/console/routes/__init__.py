"""Every console router. A new page adds its router here and its entry to ``console.nav.NAV``."""

from fastapi import APIRouter

from showfloor.server.console.routes import (
    activity,
    alerts,
    approvals,
    auth,
    contacts,
    events,
    keys,
    overview,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    overview.router,
    activity.router,
    events.router,
    contacts.router,
    keys.router,
    webhooks.router,
    approvals.router,
    alerts.router,
]
