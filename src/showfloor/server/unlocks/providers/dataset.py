"""The default provider: answers from the catalog's stored contact data (the person snapshot)."""

from __future__ import annotations

from showfloor.server.unlocks.providers.base import LookupResult, Outcome, Person


class DatasetProvider:
    name = "dataset"

    async def lookup(self, person: Person) -> LookupResult:
        if person.opted_out:
            return LookupResult(Outcome.INELIGIBLE)
        value = person.email if person.kind == "email" else person.phone
        if not value:
            return LookupResult(Outcome.NO_EMAIL)
        return LookupResult(Outcome.DELIVERED, value)

    async def aclose(self) -> None:
        return None
