"""Row schemas of the import files (one pydantic model per kind) and how a CSV cell becomes a value.

Every row is keyed by ``external_id`` (the operator's own id); re-importing updates in place. Unknown
fields are refused so a misspelt column cannot silently drop data. In CSV, list fields are either a
JSON array (``["a","b"]``) or ``|``-separated text (``a|b``); an empty cell is "not given".
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Kind = Literal["events", "exhibitors", "personnel"]
KINDS: tuple[Kind, ...] = ("events", "exhibitors", "personnel")
SOURCE_TYPES = ("exhibitor", "social", "visitors")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Opt20 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Opt32 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Opt50 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Opt100 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Opt200 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Opt255 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Opt300 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Opt320 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
Opt500 = Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: ExternalId

    @model_validator(mode="before")
    @classmethod
    def _empty_is_missing(cls, data: Any) -> Any:
        # CSV gives "" for a blank cell; treat it as "not given" rather than an empty string.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != "" and v is not None}
        return data


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int | str | None = None
    code: str | None = None
    name: Text
    description: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)


class EventRow(_Row):
    event_id: Opt100 = None  # public id; defaults to external_id
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    nickname: Opt200 = None
    description: str | None = None
    url: Opt500 = None
    image: Opt500 = None
    date_start: date | None = None
    date_end: date | None = None
    venue: Opt300 = None
    city: Opt100 = None
    region: Opt100 = None
    country: Opt100 = None
    latitude: Opt32 = None
    longitude: Opt32 = None
    event_type: Opt50 = None
    quality: Opt20 = None
    categories: list[CategoryIn] = Field(default_factory=list)
    topics: list[Text] = Field(default_factory=list)
    attendee_count: int | None = Field(default=None, ge=0)
    price_lower: Opt32 = None
    price_upper: Opt32 = None
    verified: bool = False
    sponsor_match_starred: bool = False

    @field_validator("categories", mode="before")
    @classmethod
    def _names_are_categories(cls, value: Any) -> Any:
        value = split_list(value)
        if isinstance(value, list):
            return [
                {"name": v, "code": v.strip().lower().replace(" ", "_")} if isinstance(v, str) else v
                for v in value
            ]
        return value

    @field_validator("topics", mode="before")
    @classmethod
    def _topics(cls, value: Any) -> Any:
        return split_list(value)

    @model_validator(mode="after")
    def _dates_in_order(self) -> EventRow:
        if self.date_start and self.date_end and self.date_end < self.date_start:
            raise ValueError("date_end is before date_start")
        return self


class ExhibitorRow(_Row):
    company_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    domain: Opt255 = None
    description: str | None = None
    website: Opt500 = None
    industry: Opt200 = None
    employee_count: int | None = Field(default=None, ge=0)
    country: Opt100 = None
    logo: Opt500 = None
    linkedin_url: Opt500 = None
    funding_round: Opt50 = None
    categories: list[Text] = Field(default_factory=list)
    tech_stacks: list[Text] = Field(default_factory=list)
    # External ids of the events the company exhibits at. Given: the links become exactly these.
    events: list[ExternalId] | None = None

    @field_validator("categories", "tech_stacks", "events", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return split_list(value)


class PersonnelRow(_Row):
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    title: Opt300 = None
    department: Opt100 = None
    seniority_level: Opt50 = None
    linkedin_url: Opt500 = None
    company_name: Opt300 = None
    exhibitor: ExternalId | None = None  # external id of the person's company (an exhibitor)
    email: Opt320 = None
    phone: Opt50 = None
    opted_out: bool = False
    linkedin_activity_level: Literal["high", "medium", "low"] | None = None
    # External ids of the events the person attends. Given: the attendance becomes exactly these.
    events: list[ExternalId] | None = None
    source_types: list[Literal["exhibitor", "social", "visitors"]] | None = None
    visitor_only: bool | None = None

    @field_validator("events", "source_types", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value is not None and (value.count("@") != 1 or value.startswith("@") or value.endswith("@")):
            raise ValueError("email is not an address")
        return value

    def resolved_source_types(self) -> list[str]:
        if self.source_types:
            return list(dict.fromkeys(self.source_types))
        return ["exhibitor"] if self.exhibitor else ["social"]

    def resolved_visitor_only(self) -> bool:
        if self.visitor_only is not None:
            return self.visitor_only
        return self.resolved_source_types() == ["visitors"]


ROW_MODELS: dict[Kind, type[_Row]] = {
    "events": EventRow,
    "exhibitors": ExhibitorRow,
    "personnel": PersonnelRow,
}


def split_list(value: Any) -> Any:
    """A CSV cell holding a list: a JSON array or ``a|b|c``. Other values pass through unchanged."""
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON array: {exc.msg}") from exc
    return [part.strip() for part in stripped.split("|") if part.strip()]
