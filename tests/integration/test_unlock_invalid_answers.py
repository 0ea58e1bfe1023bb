"""Provider answers that do not fit settle as ``INVALID_RESULT`` (unlocks/answers.py), on both databases.

Issue 15: a provider value longer than the 320-character column made settlement fail over and over on
PostgreSQL (the item waited out its lease and was retried), and SQLite stored and charged it. Here a fake
provider answers garbage — 5 MB values, malformed emails and phones, NUL and lone surrogates — next to
good answers; one worker pass must finish the task, charge only the good answers, release the rest and
report each bad one as failed with ``INVALID_RESULT``.
"""

from __future__ import annotations

import httpx
import pytest

from showfloor.server.db.uow import Database
from showfloor.server.unlocks.answers import invalid_answer
from showfloor.server.unlocks.providers import LookupResult, Outcome, Person
from tests.conftest import AccountFixture
from tests.integration.unlock_support import (
    assert_settled_cleanly,
    available_now,
    drain,
    give_credits,
    op_total,
    seed_cast,
)

FIVE_MB = 5 * 1024 * 1024
BAD_EMAILS = [
    "a" * FIVE_MB + "@x.example",
    "x@" + "b" * FIVE_MB + ".example",
    "no-at-sign",
    "a@b\x00.c",
    "\ud800@x.io",
]
BAD_PHONES = ["5" * FIVE_MB, "call me maybe", "+1 555\x00 0100", "x" * 60]


class GarbageProvider:
    """Answers ``answers[i]`` for the i-th distinct person it is asked about (in personnel id order)."""

    name = "garbage"

    def __init__(self, by_person: dict[int, str]) -> None:
        self.by_person = by_person
        self.calls = 0

    async def lookup(self, person: Person) -> LookupResult:
        self.calls += 1
        return LookupResult(Outcome.DELIVERED, self.by_person[person.personnel_id])

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize(
    ("kind", "path", "poll", "good", "bad", "price"),
    [
        ("email", "/external/contacts/unlock", "unlock-tasks", "ok@found.example", BAD_EMAILS, 15),
        (
            "phone",
            "/external/contacts/unlock-phone",
            "unlock-phone-tasks",
            "+1 555 010 0100",
            BAD_PHONES,
            150,
        ),
    ],
)
async def test_answers_that_do_not_fit_are_invalid_results(
    client: httpx.AsyncClient,
    db: Database,
    account: AccountFixture,
    kind: str,
    path: str,
    poll: str,
    good: str,
    bad: list[str],
    price: int,
) -> None:
    await give_credits(db, account.id, 10_000)
    cast = await seed_cast(db, deliverable=len(bad) + 2)
    ids = sorted(cast.people.values())
    answers = dict(zip(ids, [good, good, *bad], strict=True))
    submitted = await client.post(path, json={"personnel_ids": [str(i) for i in ids]})
    assert submitted.status_code == 201, submitted.text
    task_id = submitted.json()["task_id"]

    provider = GarbageProvider(answers)
    await drain(db, provider)
    assert provider.calls == len(ids)  # each asked once: a bad answer is not retried

    status = (await client.get(f"/external/contacts/{poll}/{task_id}")).json()
    assert status["taskStatus"] == "completed"  # finished in one pass: no settlement failed
    by_id = {int(item["personnelId"]): item for item in status["items"]}
    for pid in ids[:2]:
        assert by_id[pid] == {"personnelId": str(pid), "status": "unlocked", kind: good}
    for pid in ids[2:]:
        assert by_id[pid] == {"personnelId": str(pid), "status": "failed", "errorCode": "INVALID_RESULT"}

    assert await op_total(db, account.id, "capture") == 2 * price  # only the good answers
    assert await available_now(db, account.id) == 10_000 - 2 * price  # the rest released
    await assert_settled_cleanly(db, account.id)


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("email", "jane.doe+tag@mail.example.co.uk", True),
        ("email", "a" * 64 + "@x.io", True),
        ("email", "a" * 65 + "@x.io", False),
        ("email", "jane@localhost", False),
        ("email", "jane doe@x.io", False),
        ("email", "jane@@x.io", False),
        ("email", "x@" + "d" * 320 + ".io", False),
        ("phone", "+1 555 010 0100", True),
        ("phone", "+15550100100", True),
        ("phone", "(555) 010-0100 ext. 12", True),
        ("phone", "555", False),
        ("phone", "jane@x.io", False),
        ("phone", "+1 555 010 0100\ud800", False),
    ],
)
def test_invalid_answer(kind: str, value: str, ok: bool) -> None:
    assert (invalid_answer(kind, value) is None) is ok
