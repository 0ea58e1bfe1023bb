"""One webhook attempt against a real receiver on 127.0.0.1: the address checked is the address
connected to (DNS rebinding), the host name is kept, timeouts and refused connections are outcomes."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from showfloor.client import verify_webhook
from showfloor.server.config import Settings
from showfloor.server.errors import InvalidRequest
from showfloor.server.notify.sender import Attempt, Sender
from showfloor.server.notify.signing import new_secret
from showfloor.server.notify.targets import UnsafeTarget, checked_address, is_public, validate_url
from tests.e2e.private_pg import free_port
from tests.integration.webhook_support import Receiver

SECRET = new_secret()


def attempt_to(url: str) -> Attempt:
    body = b'{"id":"evt_x","type":"credits.granted","timestamp":"2026-01-01T00:00:00.000Z","data":{}}'
    return Attempt(1, 1, 1, 1, "evt_x", url, body, [SECRET])


def sender_settings(**values: object) -> Settings:
    base: dict[str, object] = {"webhook_connect_timeout_seconds": 1.0, "webhook_read_timeout_seconds": 2.0}
    base.update(values)
    return Settings(**base)  # type: ignore[arg-type]


class RebindingResolver:
    """Answers ``first`` once, then ``later``: a DNS name that changes after it was checked."""

    def __init__(self, first: list[str], later: list[str]) -> None:
        self.answers = [first, later]
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return self.answers[min(len(self.calls) - 1, 1)]


async def test_the_request_goes_to_the_checked_address_with_the_host_name_kept() -> None:
    resolver = RebindingResolver(["127.0.0.1"], ["10.255.255.1"])
    sender = Sender(sender_settings(webhook_allow_private=True), resolver=resolver)
    async with Receiver() as receiver:
        url = f"http://hooks.test:{receiver.port}/in?x=1"
        outcome = await sender.send(attempt_to(url), datetime.now(UTC))
    await sender.aclose()
    assert (outcome.ok, outcome.status) == (True, 200)
    assert resolver.calls == ["hooks.test"]  # resolved once, by us; the connection used that answer
    (request,) = receiver.received
    assert request.path == "/in?x=1"
    assert request.headers["host"] == f"hooks.test:{receiver.port}"
    assert request.headers["user-agent"].startswith("Showfloor-Webhooks/")
    assert verify_webhook(request.body, request.headers, SECRET)["id"] == "evt_x"


def make_certificates(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext, ssl.SSLContext]:
    """A test CA, and server contexts with certificates it signed for hooks.test and for other.test;
    returns (client trust store, hooks.test server, other.test server)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not found")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=Showfloor test CA")  # fmt: skip
    servers = []
    for name in ("hooks.test", "other.test"):
        (folder / f"{name}.ext").write_text(f"subjectAltName=DNS:{name}\n")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")  # fmt: skip
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")  # fmt: skip
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(folder / f"{name}.pem", folder / f"{name}.key")
        servers.append(server)
    trust = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    return trust, servers[0], servers[1]


async def test_https_checks_the_certificate_against_the_name_while_connecting_to_the_address(
    tmp_path: Path,
) -> None:
    trust, hooks_cert, other_cert = make_certificates(tmp_path)
    resolver = RebindingResolver(["127.0.0.1"], ["127.0.0.1"])
    sender = Sender(sender_settings(webhook_allow_private=True), resolver=resolver, verify=trust)
    async with Receiver(tls=hooks_cert) as right, Receiver(tls=other_cert) as wrong:
        good = await sender.send(attempt_to(f"https://hooks.test:{right.port}/hook"), datetime.now(UTC))
        bad = await sender.send(attempt_to(f"https://hooks.test:{wrong.port}/hook"), datetime.now(UTC))
    await sender.aclose()
    assert (good.ok, good.status) == (True, 200)
    assert right.received[0].headers["host"] == f"hooks.test:{right.port}"
    assert not bad.ok and bad.error is not None and "CERTIFICATE_VERIFY_FAILED" in bad.error
    assert wrong.received == []


async def test_a_name_resolving_to_any_private_address_is_refused_before_connecting() -> None:
    resolver = RebindingResolver(["93.184.216.34", "10.0.0.7"], [])
    sender = Sender(sender_settings(), resolver=resolver)
    outcome = await sender.send(attempt_to("https://mixed.example/hook"), datetime.now(UTC))
    await sender.aclose()
    assert not outcome.ok and outcome.status is None
    assert outcome.error == "refused: mixed.example resolves to a non-public address (10.0.0.7)"


async def test_timeouts_and_refused_connections_are_failed_attempts() -> None:
    sender = Sender(sender_settings(webhook_allow_private=True, webhook_read_timeout_seconds=0.3))
    async with Receiver(hold=True) as receiver:
        slow = await sender.send(attempt_to(receiver.url()), datetime.now(UTC))
    closed = await sender.send(attempt_to(f"http://127.0.0.1:{free_port()}/hook"), datetime.now(UTC))
    await sender.aclose()
    assert not slow.ok and slow.error is not None and "timed out" in slow.error
    assert not closed.ok and closed.error is not None and closed.error.startswith("connection failed")


async def test_an_unresolvable_name_is_a_failed_attempt() -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise OSError(-2, "Name or service not known")

    sender = Sender(sender_settings(), resolver=nxdomain)
    outcome = await sender.send(attempt_to("https://nowhere.invalid/hook"), datetime.now(UTC))
    await sender.aclose()
    assert (
        not outcome.ok
        and outcome.error is not None
        and outcome.error.startswith("cannot resolve nowhere.invalid")
    )


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:0a00:0001::1", False),  # 6to4 of 10.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::5db8:d822", True),  # NAT64 of a public address
    ],
)
def test_only_public_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


async def test_checked_address_with_the_setting_takes_the_first_answer() -> None:
    resolver = RebindingResolver(["10.0.0.7", "93.184.216.34"], [])
    assert await checked_address("intranet.example", 443, allow_private=True, resolver=resolver) == "10.0.0.7"
    with pytest.raises(UnsafeTarget, match="non-public"):
        await checked_address("127.0.0.1", 443, allow_private=False, resolver=resolver)


def test_urls_are_stripped_and_private_names_refused() -> None:
    assert (
        validate_url("  https://hooks.example.com/x  ", allow_private=False) == "https://hooks.example.com/x"
    )
    for url in ("https://api.internal/x", "https://printer.local/x", "https://a.localhost/x"):
        with pytest.raises(InvalidRequest, match="private"):
            validate_url(url, allow_private=False)
        assert validate_url(url, allow_private=True) == url
    with pytest.raises(InvalidRequest):
        validate_url("https://" + "a" * 2048, allow_private=True)
