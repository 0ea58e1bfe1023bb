"""Entry point for ASGI servers: ``uvicorn showfloor.server.asgi:make_app --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.logging import configure_logging


def make_app() -> FastAPI:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
