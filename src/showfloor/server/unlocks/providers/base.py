"""The enrichment provider interface: one async ``lookup`` per person, no database access.

A provider answers with a ``LookupResult`` or raises ``TransientProviderError`` (worth retrying:
timeouts, 5xx, malformed answers) or ``PermanentProviderError`` (retrying cannot help).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    DELIVERED = "delivered"
    NO_EMAIL = "no_email"  # nothing found (for a phone task: no phone)
    INELIGIBLE = "ineligible"  # e.g. the person opted out of enrichment


@dataclass(frozen=True)
class LookupResult:
    outcome: Outcome
    value: str | None = None


@dataclass(frozen=True)
class Person:
    """What the worker knows about a person, read in the claim transaction (so providers need no DB)."""

    personnel_id: int
    kind: str  # "email" | "phone"
    full_name: str
    company_name: str | None
    title: str | None
    linkedin_url: str | None
    email: str | None
    phone: str | None
    opted_out: bool


class ProviderError(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


class TransientProviderError(ProviderError):
    """Retry later (with backoff); after the attempt limit the item fails with ``code``."""


class PermanentProviderError(ProviderError):
    """The item fails at once with ``code``."""


class Provider(Protocol):
    name: str

    async def lookup(self, person: Person) -> LookupResult: ...

    async def aclose(self) -> None: ...
