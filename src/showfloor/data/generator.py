"""Deterministic demo dataset: believable events, exhibitors and personnel from a seeded ``random.Random``.

The same seed and size always give the same rows (ids included), so tests and benchmarks are repeatable.
Rows are produced in batches in foreign-key order (events, then exhibitors with their event links, then
personnel with their attendance) so a loader can stream them without holding a million rows in memory.

Shape of the data (what the API's preview/unlock rules need to be exercised):
- every 25th event (index 1, 26, …) has no contact data at all: its exhibitors exhibit only there and
  none of their people has an email or phone (unlocking such an event is not charged);
- about 40% of the events have registered visitors (``sourceType`` ``visitors``, visitor-only); the rest
  have none;
- people are mostly exhibitor employees (linked to their company), some only seen on social media
  (``social``), some registered visitors; some have no email, some a phone, some opted out.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from showfloor.data import wordlists as words

Row = dict[str, Any]
DEFAULT_SEED = 2027
DATA_EPOCH = datetime(2026, 6, 1, tzinfo=UTC)  # "now" of the dataset, so output never depends on the clock
FIRST_EVENT_DAY = date(2025, 1, 6)
EVENT_DAYS_SPAN = 3 * 365 - 20  # start dates spread over 2025-2027


@dataclass(frozen=True)
class DemoSize:
    events: int
    exhibitors: int
    personnel: int

    @property
    def entities(self) -> int:
        return self.events + self.exhibitors + self.personnel


BASE_SIZE = DemoSize(events=300, exhibitors=30_000, personnel=150_000)


def size_for(
    scale: float,
    *,
    events: int | None = None,
    exhibitors: int | None = None,
    personnel: int | None = None,
) -> DemoSize:
    """``scale`` × the base set (fractions allowed), with optional exact overrides per table."""
    if scale <= 0:
        raise ValueError("scale must be positive")

    def pick(override: int | None, base: int) -> int:
        value = override if override is not None else max(1, round(base * scale))
        if value < 1:
            raise ValueError("sizes must be at least 1")
        return value

    return DemoSize(
        events=pick(events, BASE_SIZE.events),
        exhibitors=pick(exhibitors, BASE_SIZE.exhibitors),
        personnel=pick(personnel, BASE_SIZE.personnel),
    )


@dataclass
class Batch:
    table: str
    rows: list[Row]
    entities: int  # events/exhibitors/personnel in this batch (for progress); 0 for link tables


def event_has_no_contacts(index: int) -> bool:
    return index % 25 == 1


def event_has_visitors(index: int) -> bool:
    return index % 5 in (0, 3) and not event_has_no_contacts(index)


def _ascii_slug(text: str, sep: str = "") -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return sep.join("".join(c for c in part if c.isalnum()) for part in plain.lower().split())


class DemoGenerator:
    def __init__(self, size: DemoSize, seed: int = DEFAULT_SEED, batch_size: int = 5000) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.batch_size = batch_size
        self._event_weights: list[float] = []
        self._exhibitor_events: list[tuple[int, ...]] = []
        self._exhibitor_domains: list[str] = []
        self._exhibitor_names: list[str] = []
        self._exhibitor_dark: list[bool] = []  # exhibits only at a no-contact event
        self._exhibitor_rank: list[int] = [0] * size.events
        self._personnel_rank: list[int] = [0] * size.events
        self._domains_seen: set[str] = set()
        self._next_link_id = 1
        self._next_attendance_id = 1
        self._next_person_id = 1

    def batches(self) -> Iterator[Batch]:
        yield from self._events()
        yield from self._exhibitors()
        yield from self._personnel()

    # -- events ------------------------------------------------------------------------------------

    def _events(self) -> Iterator[Batch]:
        rows = [self._event(i) for i in range(self.size.events)]
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start : start + self.batch_size]
            yield Batch("events", chunk, len(chunk))

    def _event(self, index: int) -> Row:
        rng = self.rng
        # A few big shows and a long tail: the weight decides how many exhibitors pick the event.
        self._event_weights.append(min(rng.paretovariate(1.3), 40.0))
        theme, suffix = rng.choice(words.EVENT_THEMES), rng.choice(words.EVENT_SUFFIXES)
        city, region, country, lat, lon = rng.choice(words.CITIES)
        start = FIRST_EVENT_DAY + timedelta(days=rng.randrange(EVENT_DAYS_SPAN))
        name = f"{theme} {suffix} {start.year}"
        if rng.random() < 0.25:
            name = f"{theme} {suffix} {city} {start.year}"
        acronym = "".join(w[0] for w in f"{theme} {suffix}".replace("&", "").split() if w[0].isalpha())
        quality = rng.choice(words.QUALITY_TIERS)
        price_lower = rng.choice((0, 0, 95, 195, 295))
        categories = [
            {
                "id": words.CATEGORIES.index(cat) + 1,
                "code": cat[0],
                "name": cat[1],
                "description": cat[2],
                "confidence": round(rng.uniform(0.55, 0.99), 2),
            }
            for cat in rng.sample(words.CATEGORIES, rng.randint(1, 3))
        ]
        site = _ascii_slug(f"{theme} {suffix}")
        return {
            "id": index + 1,
            "event_id": str(10000 + index + 1),
            "external_id": f"demo-event-{index + 1}",
            "name": name,
            "nickname": f"{acronym} {start.year}",
            "description": f"The {theme.lower()} industry meets in {city} for {rng.randint(2, 4)} days "
            f"of exhibits, talks and meetings.",
            "url": f"https://www.{site}.com/{start.year}",
            "image": f"https://images.showfloor.dev/events/{site}.png",
            "date_start": start,
            "date_end": start + timedelta(days=rng.randint(1, 3)),
            "venue": f"{city} {rng.choice(words.VENUE_KINDS)}",
            "city": city,
            "region": region,
            "country": country,
            "latitude": lat,
            "longitude": lon,
            "event_type": rng.choice(words.EVENT_TYPES),
            "quality": quality,
            "categories": categories,
            "topics": rng.sample(words.TOPICS, rng.randint(2, 5)),
            "attendee_count": rng.randrange(500, 60_000, 50),
            "price_lower": str(price_lower),
            "price_upper": str(price_lower + rng.choice((0, 400, 900, 1500))),
            "verified": quality == "Verified",
            "sponsor_match_starred": rng.random() < 0.1,
            # Counts are recomputed from the rows after loading (one definition: data.counts).
            "exhibitor_count": 0,
            "personnel_count": 0,
            "exhibitor_personnel_count": 0,
            "visitor_personnel_count": 0,
            "visitor_count": 0,
            "contact_count": 0,
            "data_updated_at": DATA_EPOCH - timedelta(days=rng.randrange(60)),
        }

    # -- exhibitors --------------------------------------------------------------------------------

    def _exhibitors(self) -> Iterator[Batch]:
        cum_weights: list[float] = []
        total = 0.0
        for w in self._event_weights:
            total += w
            cum_weights.append(total)
        exhibitors: list[Row] = []
        links: list[Row] = []
        for index in range(self.size.exhibitors):
            exhibitors.append(self._exhibitor(index))
            links.extend(self._exhibitor_links(index, cum_weights))
            if len(exhibitors) >= self.batch_size:
                yield Batch("exhibitors", exhibitors, len(exhibitors))
                yield Batch("event_exhibitors", links, 0)
                exhibitors, links = [], []
        if exhibitors:
            yield Batch("exhibitors", exhibitors, len(exhibitors))
            yield Batch("event_exhibitors", links, 0)

    def _company_name(self) -> tuple[str, str]:
        rng = self.rng
        base = f"{rng.choice(words.COMPANY_PREFIXES)}{rng.choice(words.COMPANY_CORES)}"
        suffix = rng.choice(words.COMPANY_SUFFIXES)
        return (f"{base} {suffix}" if suffix else base), base

    def _exhibitor(self, index: int) -> Row:
        rng = self.rng
        name, base = self._company_name()
        tld = rng.choice((".com", ".com", ".com", ".io", ".co", ".de", ".co.uk"))
        domain = f"{base.lower()}{tld}"
        if domain in self._domains_seen:
            domain = f"{base.lower()}{index + 1}{tld}"
        self._domains_seen.add(domain)
        self._exhibitor_domains.append(domain)
        self._exhibitor_names.append(name)
        industry = rng.choice(words.INDUSTRIES)
        employees = rng.choice((8, 25, 60, 150, 400, 1200, 5000, 20000))
        return {
            "id": index + 1,
            "external_id": f"demo-exhibitor-{index + 1}",
            "company_name": name,
            "domain": domain,
            "description": f"{name} builds {industry.lower()} products for teams worldwide.",
            "website": f"https://www.{domain}",
            "industry": industry,
            "employee_count": max(1, int(employees * rng.uniform(0.7, 1.3))),
            "country": rng.choice(words.CITIES)[2],
            "logo": f"https://images.showfloor.dev/logos/{domain}.png",
            "linkedin_url": f"https://www.linkedin.com/company/{base.lower()}-{index + 1}",
            "funding_round": rng.choice(words.FUNDING_ROUNDS),
            "categories": [c[1] for c in rng.sample(words.CATEGORIES, rng.randint(1, 2))],
            "tech_stacks": rng.sample(words.TECH_STACKS, rng.randint(2, 6)),
            "data_source": "demo",
        }

    def _exhibitor_links(self, index: int, cum_weights: list[float]) -> list[Row]:
        rng = self.rng
        k = 1 + (rng.random() < 0.4) + (rng.random() < 0.15)
        chosen = sorted(set(rng.choices(range(self.size.events), cum_weights=cum_weights, k=k)))
        dark = [e for e in chosen if event_has_no_contacts(e)]
        if dark:
            chosen = dark[:1]  # companies at a no-contact event are seen nowhere else
        self._exhibitor_dark.append(bool(dark))
        self._exhibitor_events.append(tuple(chosen))
        rows = []
        for event_index in chosen:
            self._exhibitor_rank[event_index] += 1
            rank = self._exhibitor_rank[event_index]
            rows.append(
                {
                    "id": self._next_link_id,
                    "event_id": event_index + 1,
                    "exhibitor_id": index + 1,
                    "rank": rank,
                    "booth": f"{'ABCDEFGH'[rank % 8]}{100 + rank}",
                }
            )
            self._next_link_id += 1
        return rows

    # -- personnel ---------------------------------------------------------------------------------

    def _personnel_split(self) -> tuple[int, int, int]:
        total = self.size.personnel
        has_visitor_events = any(event_has_visitors(i) for i in range(self.size.events))
        visitors = round(total * 0.15) if has_visitor_events else 0
        social = round(total * 0.05)
        employees = total - visitors - social
        return employees, social, visitors

    def _employee_counts(self, employees: int) -> list[int]:
        """Spread ``employees`` over the exhibitors unevenly, summing exactly to ``employees``."""
        n = self.size.exhibitors
        weights = [self.rng.uniform(0.2, 1.8) for _ in range(n)]
        scale = employees / sum(weights)
        counts = [int(w * scale) for w in weights]
        for i in range(employees - sum(counts)):
            counts[i % n] += 1
        return counts

    def _personnel(self) -> Iterator[Batch]:
        employees, social, visitors = self._personnel_split()
        people: list[Row] = []
        attendance: list[Row] = []

        def flush() -> Iterator[Batch]:
            nonlocal people, attendance
            if people:
                yield Batch("personnel", people, len(people))
                yield Batch("event_personnel", attendance, 0)
                people, attendance = [], []

        for exhibitor_index, count in enumerate(self._employee_counts(employees)):
            for _ in range(count):
                person, links = self._employee(exhibitor_index)
                people.append(person)
                attendance.extend(links)
                if len(people) >= self.batch_size:
                    yield from flush()
        open_events = [i for i in range(self.size.events) if not event_has_no_contacts(i)]
        visitor_events = [i for i in range(self.size.events) if event_has_visitors(i)]
        for _ in range(social):
            person, links = self._outsider(open_events, ["social"], visitor=False)
            people.append(person)
            attendance.extend(links)
            if len(people) >= self.batch_size:
                yield from flush()
        for _ in range(visitors):
            person, links = self._outsider(visitor_events, ["visitors"], visitor=True)
            people.append(person)
            attendance.extend(links)
            if len(people) >= self.batch_size:
                yield from flush()
        yield from flush()

    def _person(self, *, domain: str | None, company: str, dark: bool, visitor: bool) -> Row:
        rng = self.rng
        person_id = self._next_person_id
        self._next_person_id += 1
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        full_name = f"{first} {last}"
        if visitor:
            department, title = "operations", rng.choice(words.VISITOR_TITLES)
        else:
            department = rng.choice(tuple(words.DEPARTMENT_TITLES))
            title = rng.choice(words.DEPARTMENT_TITLES[department])
        seniority = words.SENIORITY_BY_TITLE_WORD.get(
            title.split()[0], "manager" if "Manager" in title else "ic"
        )
        email = phone = None
        if not dark:
            mail_domain = domain or f"{_ascii_slug(company)}.com"
            if rng.random() < 0.78:
                email = f"{_ascii_slug(first)}.{_ascii_slug(last)}{person_id % 97}@{mail_domain}"
            if rng.random() < 0.3:
                phone = f"+1 {rng.randint(201, 989)} {rng.randint(200, 999)} {rng.randint(1000, 9999)}"
        activity = rng.choice(words.ACTIVITY_LEVELS)
        return {
            "id": person_id,
            "external_id": f"demo-person-{person_id}",
            "full_name": full_name,
            "full_name_norm": full_name.strip().lower(),
            "title": title,
            "department": department,
            "seniority_level": seniority,
            "linkedin_url": f"https://www.linkedin.com/in/{_ascii_slug(full_name, '-')}-{person_id:x}",
            "company_name": company,
            "exhibitor_id": None,
            "email": email,
            "phone": phone,
            "opted_out": (email is not None or phone is not None) and rng.random() < 0.04,
            "linkedin_activity_level": activity,
            "linkedin_latest_post_at": (
                DATA_EPOCH - timedelta(days=rng.randrange(1, 200)) if activity is not None else None
            ),
        }

    def _attend(self, event_index: int, person: Row, source_types: list[str], visitor: bool) -> Row:
        self._personnel_rank[event_index] += 1
        row = {
            "id": self._next_attendance_id,
            "event_id": event_index + 1,
            "personnel_id": person["id"],
            "exhibitor_id": person["exhibitor_id"],
            "source_types": source_types,
            "is_visitor_only": visitor,
            "rank": self._personnel_rank[event_index],
        }
        self._next_attendance_id += 1
        return row

    def _employee(self, exhibitor_index: int) -> tuple[Row, list[Row]]:
        rng = self.rng
        person = self._person(
            domain=self._exhibitor_domains[exhibitor_index],
            company=self._exhibitor_names[exhibitor_index],
            dark=self._exhibitor_dark[exhibitor_index],
            visitor=False,
        )
        person["exhibitor_id"] = exhibitor_index + 1
        events = self._exhibitor_events[exhibitor_index]
        links = []
        for position, event_index in enumerate(events):
            if position == 0 or rng.random() < 0.7:
                sources = ["exhibitor", "social"] if rng.random() < 0.15 else ["exhibitor"]
                links.append(self._attend(event_index, person, sources, visitor=False))
        return person, links

    def _outsider(self, events: list[int], sources: list[str], *, visitor: bool) -> tuple[Row, list[Row]]:
        company, _ = self._company_name()
        person = self._person(domain=None, company=company, dark=False, visitor=visitor)
        if not events:
            return person, []
        return person, [self._attend(self.rng.choice(events), person, sources, visitor=visitor)]
