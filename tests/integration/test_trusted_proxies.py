"""``SHOWFLOOR_TRUSTED_PROXIES``: X-Forwarded-For and X-Forwarded-Proto are believed only from trusted
peers; the forwarded client then has its own per-IP bucket, appears in the request log, and a forged
left part of the header gets a client nowhere."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from showfloor.server.api.proxies import forwarded_client, parse_networks
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from tests.conftest import new_account, test_settings
from tests.integration.test_foundation import assert_error_body
from tests.integration.test_rate_limit import serve

PROXIES = parse_networks(["10.0.0.0/8", "127.0.0.1"])


def test_the_client_is_the_first_untrusted_hop_from_the_right() -> None:
    assert forwarded_client("127.0.0.1", "203.0.113.9", PROXIES) == "203.0.113.9"
    assert forwarded_client("127.0.0.1", "203.0.113.9, 10.1.2.3", PROXIES) == "203.0.113.9"
    # A client forging the header's left part: the proxy appended the address it saw.
    assert forwarded_client("127.0.0.1", "1.1.1.1, 198.51.100.4", PROXIES) == "198.51.100.4"
    assert forwarded_client("127.0.0.1", "not-an-ip, 10.0.0.5", PROXIES) == "10.0.0.5"
    assert forwarded_client("127.0.0.1", "2001:db8::7", PROXIES) == "2001:db8::7"
    assert forwarded_client("127.0.0.1", "garbage", PROXIES) == "127.0.0.1"


def test_setting_reads_comma_separated_cidrs_and_refuses_bad_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOWFLOOR_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,2001:db8::/32")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]
    monkeypatch.setenv("SHOWFLOOR_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
    with pytest.raises(ValidationError, match=r"proxy\.internal"):
        Settings()
    monkeypatch.delenv("SHOWFLOOR_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_per_ip_limit_uses_the_forwarded_client_behind_a_trusted_proxy(
    db: Database, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    acct = await new_account(db)
    alice = {**acct.headers, "X-Forwarded-For": "203.0.113.1"}
    bob = {**acct.headers, "X-Forwarded-For": "203.0.113.2"}
    settings = test_settings(
        db_url, rate_limit_enabled=True, rate_limit_per_ip=2, trusted_proxies=["127.0.0.1"]
    )
    caplog.set_level(logging.INFO, logger="showfloor.request")
    async with serve(settings) as client:  # httpx's ASGI peer is 127.0.0.1: the proxy
        for _ in range(2):
            assert (await client.get("/external/credits/balance", headers=alice)).status_code == 200
        assert_error_body(
            await client.get("/external/credits/balance", headers=alice), 429, "RATE_LIMIT_EXCEEDED"
        )
        assert (await client.get("/external/credits/balance", headers=bob)).status_code == 200
    clients = {getattr(r, "client", None) for r in caplog.records if r.name == "showfloor.request"}
    assert {"203.0.113.1", "203.0.113.2"} <= clients


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("trusted", [[], ["10.0.0.0/8"]])
async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    db: Database, db_url: str, trusted: list[str]
) -> None:
    acct = await new_account(db)
    settings = test_settings(db_url, rate_limit_enabled=True, rate_limit_per_ip=2, trusted_proxies=trusted)
    async with serve(settings) as client:
        for n in range(2):
            forged = {**acct.headers, "X-Forwarded-For": f"203.0.113.{n}"}
            assert (await client.get("/external/credits/balance", headers=forged)).status_code == 200
        forged = {**acct.headers, "X-Forwarded-For": "203.0.113.99", "X-Forwarded-Proto": "https"}
        assert_error_body(
            await client.get("/external/credits/balance", headers=forged), 429, "RATE_LIMIT_EXCEEDED"
        )
        page = await client.get("/console/login", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" not in page.headers["set-cookie"]
