"""The shared request core: retry decisions, backoff, Retry-After, idempotency keys, error mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from showfloor.client import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequest,
    Cancelled,
    ConfigurationError,
    Conflict,
    InsufficientCredits,
    NotFound,
    PermissionDenied,
    RateLimited,
    RetryPolicy,
    ServerError,
    SpendCapExceeded,
    Unprocessable,
)
from showfloor.client._config import resolve_config
from showfloor.client._transport import RequestSpec, backoff_delay, decide_retry, retry_after_seconds
from tests.client.fakes import Script, async_client, error, sync_client

POLICY = RetryPolicy(max_retries=3, initial_delay=0.5, max_delay=8.0, max_retry_after=60.0)
GET = RequestSpec("GET", "/external/events/list", lambda b: b)
PAID_POST = RequestSpec("POST", "/external/events/E1/unlock", lambda b: b, paid=True)
PAID_GET = RequestSpec(
    "GET", "/external/personnel/events/by-name", lambda b: b, paid=True, retry="refused_only"
)
UNLOCKED = {"success": True, "alreadyUnlocked": False, "creditsUsed": 2000, "balanceAfter": None}
BALANCE = {"totalBalance": 5000}


def zero() -> float:
    return 0.0


def one() -> float:
    return 1.0


def response(status: int, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return httpx.Response(
        status, headers=headers, json=body or {"code": status, "errorKey": "X", "message": "m"}
    )


# -- pure decisions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "outcome", "retry"),
    [
        (GET, response(503), True),
        (GET, response(500), True),
        (GET, response(429), True),
        (GET, response(400), False),
        (GET, response(404), False),
        (GET, response(200, items=[]), False),
        (PAID_POST, response(402), False),
        (PAID_POST, response(502), True),
        (PAID_POST, response(422), False),
        (PAID_POST, httpx.ReadTimeout("slow"), True),
        (PAID_POST, error(409, "IDEMPOTENCY_KEY_IN_USE"), True),
        (PAID_POST, error(409, "STATE_CONFLICT"), False),
        (GET, error(409, "IDEMPOTENCY_KEY_IN_USE"), False),
        (PAID_GET, response(500), False),
        (PAID_GET, httpx.ReadTimeout("slow"), False),
        (PAID_GET, httpx.ConnectError("refused"), True),
        (PAID_GET, response(429), True),
        (GET, httpx.ConnectError("refused"), True),
        (GET, httpx.RemoteProtocolError("reset"), True),
    ],
)
def test_retry_decision(spec: RequestSpec[Any], outcome: Any, retry: bool) -> None:
    assert decide_retry(spec, outcome, 0, POLICY, zero).retry is retry


def test_no_retry_once_attempts_are_used_up() -> None:
    assert decide_retry(GET, response(503), 2, POLICY, zero).retry is True
    assert decide_retry(GET, response(503), 3, POLICY, zero).retry is False


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert [backoff_delay(n, POLICY, zero) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff_delay(2, POLICY, one) == pytest.approx(1.5)  # up to 25 % less
    assert 1.5 <= backoff_delay(2, POLICY, __import__("random").random) <= 2.0


def test_retry_after_seconds_date_ms_and_out_of_range() -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After": "7"}), POLICY) == 7.0
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "1500"}), POLICY) == 1.5
    now = datetime(2026, 1, 1, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=12), usegmt=True)
    assert retry_after_seconds(httpx.Headers({"Retry-After": date}), POLICY, now) == 12.0
    assert retry_after_seconds(httpx.Headers({"Retry-After": "3600"}), POLICY) is None
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"}), POLICY) is None
    assert retry_after_seconds(httpx.Headers({}), POLICY) is None


def test_429_waits_for_retry_after_instead_of_backoff() -> None:
    decision = decide_retry(GET, response(429, {"Retry-After": "9"}), 0, POLICY, zero)
    assert (decision.retry, decision.delay) == (True, 9.0)
    too_long = decide_retry(GET, response(429, {"Retry-After": "600"}), 1, POLICY, zero)
    assert too_long.delay == 1.0  # backoff


# -- the loop, through a client ---------------------------------------------------------------


def test_get_retried_on_5xx_and_429_then_succeeds() -> None:
    script = Script(response(503), response(429, {"Retry-After": "4"}), httpx.Response(200, json=BALANCE))
    sleeps: list[float] = []
    with sync_client(script, sleeps) as client:
        assert client.credits.balance().totalBalance == 5000
    assert len(script.requests) == 3
    assert sleeps[1] == 4.0 and 0.375 <= sleeps[0] <= 0.5
    assert script.keys() == [None, None, None]  # free reads carry no idempotency key


def test_paid_post_reuses_one_idempotency_key_across_retries() -> None:
    script = Script(httpx.ReadTimeout("timed out"), response(502), httpx.Response(201, json=UNLOCKED))
    sleeps: list[float] = []
    with sync_client(script, sleeps) as client:
        result = client.events.unlock("E1")
        assert result.creditsUsed == 2000
        keys = script.keys()
        assert len(keys) == 3 and keys[0] and len(set(keys)) == 1
        client.events.unlock("E1")
    assert script.keys()[3] != keys[0]  # a new call is a new intent
    assert len(sleeps) == 2


async def test_async_paid_post_reuses_one_idempotency_key_across_retries() -> None:
    script = Script(
        httpx.ConnectError("refused"),
        error(409, "IDEMPOTENCY_KEY_IN_USE"),
        httpx.Response(201, json=UNLOCKED),
    )
    sleeps: list[float] = []
    client = async_client(script, sleeps)
    result = await client.events.unlock("E1")
    await client.aclose()
    assert result.creditsUsed == 2000
    assert len(set(script.keys())) == 1 and script.keys()[0]
    assert len(sleeps) == 2


def test_402_raises_insufficient_credits_and_is_never_retried() -> None:
    script = Script(error(402, "INSUFFICIENT_CREDITS", requiredCredits=2000, availableCredits=150))
    sleeps: list[float] = []
    with sync_client(script, sleeps) as client, pytest.raises(InsufficientCredits) as caught:
        client.events.unlock("E1")
    assert len(script.requests) == 1 and sleeps == []
    exc = caught.value
    assert (exc.status, exc.error_key, exc.required, exc.available) == (
        402,
        "INSUFFICIENT_CREDITS",
        2000,
        150,
    )
    assert exc.request_id == "trace-1"


def test_402_spend_cap_exceeded_has_its_own_class() -> None:
    script = Script(error(402, "SPEND_CAP_EXCEEDED", cap=5000, period="day", spent=4000, required=2000))
    sleeps: list[float] = []
    with sync_client(script, sleeps) as client, pytest.raises(SpendCapExceeded) as caught:
        client.events.unlock("E1")
    assert len(script.requests) == 1 and sleeps == []
    exc = caught.value
    assert isinstance(exc, InsufficientCredits)  # code catching the 402 keeps working
    assert (exc.error_key, exc.cap, exc.period, exc.spent, exc.required) == (
        "SPEND_CAP_EXCEEDED",
        5000,
        "day",
        4000,
        2000,
    )
    assert exc.available is None


@pytest.mark.parametrize(
    ("status", "key", "cls"),
    [
        (400, "INVALID_REQUEST", BadRequest),
        (401, "INVALID_API_KEY", AuthenticationError),
        (403, "NO_ACTIVE_SUBSCRIPTION", PermissionDenied),
        (404, "NOT_FOUND", NotFound),
        (409, "STATE_CONFLICT", Conflict),
        (422, "IDEMPOTENCY_KEY_REUSED", Unprocessable),
        (429, "RATE_LIMIT_EXCEEDED", RateLimited),
        (500, "INTERNAL_ERROR", ServerError),
        (503, "SERVICE_UNAVAILABLE", ServerError),
    ],
)
def test_error_mapping(status: int, key: str, cls: type[Exception]) -> None:
    script = Script(error(status, key, message="what happened", trace="tr-9"))
    with sync_client(script, [], RetryPolicy(max_retries=0)) as client, pytest.raises(cls) as caught:
        client.credits.balance()
    exc: Any = caught.value
    assert (exc.status, exc.error_key, exc.message, exc.request_id) == (status, key, "what happened", "tr-9")


def test_request_id_falls_back_to_header_for_non_json_errors() -> None:
    script = Script(httpx.Response(502, text="<html>bad gateway</html>", headers={"X-Request-ID": "hdr-1"}))
    with sync_client(script, [], RetryPolicy(max_retries=0)) as client, pytest.raises(ServerError) as caught:
        client.credits.balance()
    assert caught.value.request_id == "hdr-1" and caught.value.status == 502


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        ({"code": 400, "message": "paid plan needed", "errorKey": "USER_HAS_NO_FEATURE"}, BadRequest),
        (
            {
                "code": 429,
                "message": "busy",
                "errorKey": "USER_CONCURRENCY_LIMIT_EXCEEDED",
                "traceId": "t",
                "data": None,
                "details": None,
            },
            RateLimited,
        ),
    ],
)
def test_http_200_business_errors_raise(body: dict[str, Any], cls: type[Exception]) -> None:
    script = Script(httpx.Response(200, json=body))
    with sync_client(script, [], RetryPolicy(max_retries=0)) as client, pytest.raises(cls) as caught:
        client.exhibitors.search_events("Acme")
    assert caught.value.error_key == body["errorKey"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("exc", "cls"),
    [(httpx.ConnectError("refused"), APIConnectionError), (httpx.ReadTimeout("t"), APITimeoutError)],
)
def test_connection_errors_after_retries(exc: Exception, cls: type[Exception]) -> None:
    script = Script(exc)
    sleeps: list[float] = []
    with sync_client(script, sleeps) as client, pytest.raises(cls):
        client.credits.balance()
    assert len(script.requests) == 4 and len(sleeps) == 3


def test_confirm_false_cancels_before_anything_paid_is_sent() -> None:
    precheck = {"ok": True, "action_type": "unlock_event_contacts", "allowed": True, "should_charge": True,
                "credits": 2000, "reason_code": "ok", "biz_code": "", "detail": {}}  # fmt: skip

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/balance"):
            return httpx.Response(200, json=BALANCE)
        if request.url.path.endswith("/precheck"):
            return httpx.Response(200, json=precheck)
        return httpx.Response(201, json=UNLOCKED)

    script = Script(route)
    seen = []
    with sync_client(script, []) as client:
        with pytest.raises(Cancelled) as caught:
            client.events.unlock("E1", confirm=lambda q: seen.append(q) or False)
        assert [r.url.path for r in script.requests] == [
            "/external/credits/balance",
            "/external/actions/precheck",
        ]
        assert caught.value.quote.cost == 2000 and caught.value.quote.balance == 5000
        client.events.unlock("E1", confirm=lambda q: True)
    assert script.requests[-1].url.path == "/external/events/E1/unlock"
    assert seen[0].allowed and seen[0].should_charge


def test_quote_for_company_search_comes_from_the_server_precheck() -> None:
    # A plan price of 70 (not the default 50): the SDK shows what the server says, it has no price table.
    precheck = {"ok": True, "action_type": "search_exhibitors_by_company_name", "allowed": False,
                "should_charge": True, "credits": 70, "reason_code": "insufficient_balance", "biz_code": "",
                "detail": {"charged_only_when_non_empty": True}}  # fmt: skip

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/balance"):
            return httpx.Response(200, json={"totalBalance": 40})
        return httpx.Response(200, json=precheck)

    script = Script(route)
    with sync_client(script, []) as client:
        quote = client.quote("search_exhibitors_by_company_name", company_name="Acme")
    assert (quote.cost, quote.balance, quote.allowed, quote.reason) == (70, 40, False, "insufficient_balance")
    assert [r.url.path for r in script.requests] == [
        "/external/credits/balance",
        "/external/actions/precheck",
    ]


def test_config_from_environment() -> None:
    env = {"LENSMOR_API_KEY": "sk_lens", "SHOWFLOOR_BASE_URL": "http://x.test/"}
    config = resolve_config(env=env)
    assert (config.api_key, config.base_url) == ("sk_lens", "http://x.test")
    assert resolve_config(env={"SHOWFLOOR_API_KEY": "a", "LENSMOR_API_KEY": "b"}).api_key == "a"
    assert resolve_config("arg", env={"SHOWFLOOR_API_KEY": "a"}).api_key == "arg"
    assert resolve_config(env={"SHOWFLOOR_API_KEY": "a"}).base_url == "http://127.0.0.1:8000"
    with pytest.raises(ConfigurationError):
        resolve_config(env={})


def test_request_carries_auth_call_source_and_repeated_list_params() -> None:
    script = Script(httpx.Response(200, json={"items": [], "total": 0, "page": 1, "pageSize": 20}))
    with sync_client(script, []) as client:
        client.events.list(keyword="expo", event_type=["a", "b"])
        client.exhibitors.search_by_company_name("Acme", call_source="agent")
    get, post = script.requests
    assert get.headers["authorization"] == "Bearer sk_test"
    assert get.url.params.get_list("event_type") == ["a", "b"] and "country" not in get.url.params
    assert post.headers["x-call-source"] == "agent" and post.headers["idempotency-key"]
