"""Rows -> the reference's item shapes (EventItem, EventDetail, ExhibitorItem, ContactItem).

Ids are strings; dates ISO ``YYYY-MM-DD``; ms timestamps are decimal strings. Contact values (email,
phone) appear only when the caller passes the value this account unlocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from showfloor.server.models.catalog import Event, EventPersonnel, Exhibitor, Personnel

SOURCE_TYPES = ("exhibitor", "social", "visitors")
ACTIVE_LEVELS = ("ACTIVE",)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def ms_string(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return str(int(aware.timestamp() * 1000))


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


# The columns ``event_item`` reads: lists load only these (``catalog.events.paged_events``), not the JSON
# columns an item never shows (decoding them cost ~6 % of an events-list request).
EVENT_ITEM_COLUMNS = (
    Event.id,
    Event.event_id,
    Event.name,
    Event.nickname,
    Event.description,
    Event.url,
    Event.date_start,
    Event.date_end,
    Event.venue,
    Event.city,
    Event.region,
    Event.country,
    Event.exhibitor_count,
    Event.visitor_count,
    Event.sponsor_match_starred,
    Event.image,
)


def event_item(event: Event) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "eventId": event.event_id,
        "name": event.name,
        "nickname": event.nickname,
        "description": event.description,
        "url": event.url,
        "dateStart": _iso(event.date_start),
        "dateEnd": _iso(event.date_end),
        "venue": event.venue,
        "city": event.city,
        "region": event.region,
        "country": event.country,
        "exhibitorCount": event.exhibitor_count,
        "hasVisitors": event.visitor_count > 0,
        "sponsorMatchStarred": 1 if event.sponsor_match_starred else 0,
        "image": event.image,
        "dataSource": "Lensmor",
    }


def _category(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return {
            "id": raw.get("id"),
            "code": raw.get("code"),
            "name": raw.get("name"),
            "description": raw.get("description"),
            "confidence": raw.get("confidence"),
        }
    return {"id": None, "code": None, "name": str(raw), "description": None, "confidence": None}


def category_names(event: Event) -> list[str]:
    names = [_category(c)["name"] for c in event.categories or []]
    return [str(n) for n in names if n]


def event_detail(event: Event, today: date | None = None) -> dict[str, Any]:
    today = today or datetime.now(UTC).date()
    last_day = event.date_end or event.date_start
    future = 1 if event.date_start is not None and event.date_start >= today else 0
    historic = 1 if last_day is not None and last_day < today else 0
    topics = [str(t) for t in event.topics or []]
    return {
        **event_item(event),
        "latitude": event.latitude,
        "longitude": event.longitude,
        "attendeeCount": event.attendee_count,
        "priceLower": event.price_lower,
        "priceUpper": event.price_upper,
        "eventType": event.event_type,
        "categories": [_category(c) for c in event.categories or []],
        "topics": topics,
        "topicsCount": len(topics),
        "verified": 1 if event.verified else 0,
        "future": future,
        "historic": historic,
        "historicEvent": None,
        "personnelCount": event.personnel_count,
        "eventTypes": [{"name": event.event_type}] if event.event_type else [],
    }


def exhibitor_base(exhibitor: Exhibitor) -> dict[str, Any]:
    return {
        "id": str(exhibitor.id),
        "companyName": exhibitor.company_name,
        "domain": exhibitor.domain,
        "description": exhibitor.description,
        "website": exhibitor.website,
        "industry": exhibitor.industry,
        "employeeCount": exhibitor.employee_count,
        "country": exhibitor.country,
        "logo": exhibitor.logo,
        "dataSource": exhibitor.data_source,
        "linkedinUrl": exhibitor.linkedin_url,
        "fundingRound": exhibitor.funding_round,
        "categories": [str(c) for c in exhibitor.categories or []],
    }


def exhibitor_item(
    exhibitor: Exhibitor,
    matched_event_ids: Sequence[str] = (),
    *,
    personnel: list[dict[str, Any]] | None = None,
    buying_signal_status: str | None = None,
) -> dict[str, Any]:
    """ExhibitorItem. No recommendation engine or buying-signal analysis exists: those fields are empty."""
    item = {
        **exhibitor_base(exhibitor),
        "matched_event_ids": list(matched_event_ids),
        "isRecommended": False,
        "recommendationRank": None,
        "matchStatus": None,
        "matchScore": None,
        "matchTier": None,
        "matchReason": None,
        "techStacks": [str(t) for t in exhibitor.tech_stacks or []],
        "buyingSignalTags": [],
        "buyingSignalStatus": buying_signal_status,
        "buyingSignals": [],
    }
    if personnel is not None:
        item["personnel"] = personnel
    return item


def normalize_source_types(values: Sequence[str] | None) -> list[str]:
    present = {str(v).strip().lower() for v in values or []}
    return [s for s in SOURCE_TYPES if s in present]


def linkedin_activity(person: Personnel) -> dict[str, Any]:
    level = (person.linkedin_activity_level or "").upper()
    return {
        "activityLevel": level,
        "isActive": level in ACTIVE_LEVELS,
        "latestPostAt": ms_string(person.linkedin_latest_post_at),
    }


def contact_item(
    person: Personnel,
    attendance: EventPersonnel | None = None,
    unlocked_email: str | None = None,
    unlocked_phone: str | None = None,
    linkedin_status: str | None = None,
    *,
    source_types: Sequence[str] | None = None,
    event_count: int | None = None,
    email_status: str | None = None,
    phone_status: str | None = None,
    outreach_status: str | None = None,
    outreach_channels: Sequence[str] = (),
) -> dict[str, Any]:
    """ContactItem for one person.

    ``unlocked_email`` / ``unlocked_phone``: the value this account unlocked (from
    ``access.service.unlocked_contacts``), None when not unlocked — then ``email``/``phone`` are null and
    the status is ``locked`` / null. ``email_status`` / ``phone_status`` override the derived status
    (e.g. ``processing`` while an unlock task runs). ``linkedin_status``: ``ready`` | ``processing`` | None;
    the activity object is shown only when ``ready``. ``source_types`` (aggregated labels) is used when
    there is no event-scoped ``attendance``.
    """
    labels = attendance.source_types if attendance is not None else source_types
    return {
        "id": str(person.id),
        "fullName": person.full_name,
        "title": person.title,
        "department": person.department,
        "seniorityLevel": person.seniority_level,
        "linkedinUrl": person.linkedin_url,
        "companyName": person.company_name,
        "sourceType": normalize_source_types(labels),
        "email": unlocked_email,
        "phone": unlocked_phone,
        "contactUnlockStatus": email_status or ("unlocked" if unlocked_email is not None else "locked"),
        "phoneUnlockStatus": phone_status or ("ready" if unlocked_phone is not None else None),
        "linkedinActivity": linkedin_activity(person) if linkedin_status == "ready" else None,
        "linkedinActivityStatus": linkedin_status,
        "eventCount": event_count,
        "outreachMessageStatus": outreach_status,
        "outreachMessageChannels": list(outreach_channels),
    }
