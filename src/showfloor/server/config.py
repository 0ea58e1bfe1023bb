"""Server settings, read once from ``SHOWFLOOR_*`` environment variables and passed around as one object."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/showfloor.db"
DATABASE_SCHEMES = {
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOWFLOOR_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Set to share rate-limit counters between server processes (e.g. redis://127.0.0.1:6379/0).
    redis_url: str | None = None
    # Redis is optional at run time: each check waits at most this long; on a refusal, error or timeout
    # the process counts rate limits locally and asks Redis again every ``redis_retry_seconds``; the
    # degradation is logged at most once per ``redis_degraded_log_seconds`` (docs/operations.md).
    redis_timeout_ms: float = Field(default=100.0, gt=0, le=10_000)
    redis_retry_seconds: float = Field(default=5.0, ge=0)
    redis_degraded_log_seconds: float = Field(default=60.0, gt=0)
    # Every Redis key starts with this and a colon, so deployments (staging, production) can share a Redis.
    redis_key_prefix: str = Field(
        default="showfloor", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$"
    )
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    # Rate limits: fixed 60 s window, per API key and per client IP (the reference's defaults).
    rate_limit_enabled: bool = True
    rate_limit_per_key: int = Field(default=120, ge=1)
    rate_limit_per_ip: int = Field(default=600, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1)

    # ``/metrics`` is never open on the API port: it answers on its own listener (``serve --metrics-port``;
    # that listener serves only /metrics, /healthz, /readyz) or, on the API port, only to
    # ``Authorization: Bearer <metrics_token>``. Neither set: no metrics over HTTP (docs/operations.md).
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_token: str | None = Field(default=None, min_length=16)

    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (CIDRs or addresses, comma
    # separated, e.g. "10.0.0.0/8,192.0.2.7"): the client address for per-IP limits, logs and the
    # console's throttling, and the scheme for its Secure cookies. Empty: no forwarded header is believed.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _cidr_list(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        out = [str(item).strip() for item in items if str(item).strip()]
        for item in out:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return out

    # Prices live in the database (``showfloor admin plans``); accounts without a plan pay the defaults.
    # Rows of a locked event's exhibitor and personnel lists that a preview shows.
    preview_limit: int = Field(default=50, ge=0)

    # Background work.
    embedded_worker: bool | None = None  # None: on for SQLite, off for PostgreSQL
    sweep_interval_seconds: float = Field(default=60.0, gt=0)
    idempotency_ttl_hours: int = Field(default=24, ge=24)

    # Contact unlock workers and enrichment providers (see docs/unlocks.md).
    unlock_provider: Literal["dataset", "http", "fault"] = "dataset"
    worker_concurrency: int = Field(default=16, ge=1, le=512)
    worker_lease_seconds: float = Field(default=30.0, gt=0)
    worker_max_attempts: int = Field(default=5, ge=1)
    worker_retry_base_seconds: float = Field(default=1.0, ge=0)
    worker_poll_seconds: float = Field(default=0.5, gt=0)
    # A task's answers settle together once this many are ready or the oldest has waited this long
    # (1: every item in its own transaction). Each item keeps its own guard and operation keys.
    worker_settle_group: int = Field(default=32, ge=1, le=256)
    worker_settle_wait_ms: float = Field(default=50.0, ge=0)
    # Each unlock worker refreshes its row in worker_heartbeats this often; a row older than three
    # intervals is a dead worker (``/readyz`` reports pending items with no live worker).
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)
    unlock_http_url: str | None = None
    unlock_http_token: str | None = None
    unlock_http_timeout_seconds: float = Field(default=10.0, gt=0)
    unlock_http_retries: int = Field(default=1, ge=0)
    # The fault provider wraps ``unlock_fault_inner`` and injects trouble at these rates (0..1).
    unlock_fault_inner: Literal["dataset", "http"] = "dataset"
    unlock_fault_latency_ms: float = Field(default=0.0, ge=0)
    unlock_fault_error_rate: float = Field(default=0.0, ge=0, le=1)
    unlock_fault_permanent_rate: float = Field(default=0.0, ge=0, le=1)
    unlock_fault_timeout_rate: float = Field(default=0.0, ge=0, le=1)
    unlock_fault_malformed_rate: float = Field(default=0.0, ge=0, le=1)
    unlock_fault_seed: int = 0

    # Database pool (PostgreSQL only), per process. Connections past the pool size are closed as soon as
    # the pool has that many idle, so a process whose concurrent requests often exceed it opens a new
    # connection (a new backend, every statement prepared again) per request: size it for the
    # concurrency a process sees (docs/operations.md).
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)

    # Outbound events and webhooks (docs/webhooks.md). Delivery runs in ``showfloor worker`` and, where
    # the embedded worker runs (the SQLite default), inside ``showfloor serve``.
    # http:// URLs and private, loopback and link-local targets are refused unless this is true
    # (tests, on-premise receivers).
    webhook_allow_private: bool = False
    webhook_concurrency: int = Field(default=8, ge=1, le=256)
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_read_timeout_seconds: float = Field(default=15.0, gt=0)
    # A claimed delivery stays ours this long; it must outlast one attempt (connect + read timeouts).
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    webhook_retry_base_seconds: float = Field(default=30.0, ge=0)
    webhook_retry_max_seconds: float = Field(default=7200.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    # Delivered and failed deliveries (and their events) are purged after this many days.
    webhook_retention_days: int = Field(default=30, ge=1)
    # ``credits.expiring``: this many days before a subscription or add-on grant expires.
    credits_expiring_notice_days: int = Field(default=7, ge=1, le=365)

    @model_validator(mode="after")
    def _webhook_lease_outlasts_an_attempt(self) -> Settings:
        if (
            self.webhook_lease_seconds
            <= self.webhook_connect_timeout_seconds + self.webhook_read_timeout_seconds
        ):
            raise ValueError(
                "SHOWFLOOR_WEBHOOK_LEASE_SECONDS must exceed the webhook connect + read timeouts, "
                "or a slow receiver would get the same delivery from two workers at once"
            )
        return self

    # The owner's console (docs/console.md): session expiry and sign-in throttling.
    console_session_idle_minutes: int = Field(default=60, ge=1)
    console_session_max_hours: int = Field(default=12, ge=1)
    console_login_failures_per_email: int = Field(default=5, ge=1)
    console_login_failures_per_ip: int = Field(default=20, ge=1)
    console_login_window_minutes: int = Field(default=15, ge=1)

    # Edge limits (issue 15, docs/operations.md "Request limits and timeouts"). A request body larger
    # than this answers 413 before authentication work and JSON parsing; the largest legitimate body
    # (2,000 contact ids) is far smaller.
    max_request_body_bytes: int = Field(default=1_048_576, ge=1024)
    # PostgreSQL statement timeouts in milliseconds (0: none): a statement of an API request (and of the
    # periodic jobs inside ``serve``) that runs longer is cancelled, its transaction rolled back, and the
    # request answers 503; ``showfloor worker`` and admin commands have their own, longer one.
    db_statement_timeout_ms: int = Field(default=5_000, ge=0)
    db_worker_statement_timeout_ms: int = Field(default=60_000, ge=0)

    # Agent quotes (MCP server, docs/agents.md): how long a quote can be approved and executed.
    agent_quote_ttl_seconds: int = Field(default=600, ge=10, le=86400)

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        # The common spellings (postgresql://, postgres://, sqlite:///) mean the drivers we ship.
        for plain, driver in DATABASE_SCHEMES.items():
            if value.startswith(plain):
                value = driver + value[len(plain) :]
                break
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "SHOWFLOOR_DATABASE_URL must start with postgresql:// (or postgresql+asyncpg://) "
                "or sqlite:/// (or sqlite+aiosqlite:///)"
            )
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def run_embedded_worker(self) -> bool:
        return self.is_sqlite if self.embedded_worker is None else self.embedded_worker

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split(":///", 1)[1]
        return None if raw in ("", ":memory:") else Path(raw)
