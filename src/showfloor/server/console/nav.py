"""The console's navigation. A page added later appends its entry here (e.g. Activity, Approvals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    key: str  # a page's ``active`` value
    label: str
    href: str


NAV: list[NavItem] = [
    NavItem("overview", "Overview", "/console"),
    NavItem("activity", "Activity", "/console/activity"),
    NavItem("events", "Events", "/console/events"),
    NavItem("contacts", "Contacts", "/console/contacts"),
    NavItem("keys", "API keys", "/console/keys"),
    NavItem("webhooks", "Webhooks", "/console/webhooks"),
    NavItem("approvals", "Approvals", "/console/approvals"),
    NavItem("alerts", "Alerts", "/console/alerts"),
]
