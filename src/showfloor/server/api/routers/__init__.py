"""Every router the app mounts, in one list."""

from fastapi import APIRouter

from showfloor.server.api.routers import (
    actions,
    agent_quotes,
    contact_unlocks,
    contacts,
    credits,
    events,
    exhibitors,
    health,
    metrics,
    paid_search,
    personnel,
    unlocks,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    health.router,
    metrics.router,
    credits.router,
    actions.router,
    unlocks.router,
    paid_search.router,
    personnel.router,
    contacts.router,
    contact_unlocks.router,
    events.router,
    exhibitors.router,
    webhooks.router,
    agent_quotes.router,
]
