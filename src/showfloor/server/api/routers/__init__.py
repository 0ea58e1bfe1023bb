"""Every router the app mounts, in one list."""

from fastapi import APIRouter

from showfloor.server.api.routers import credits, health

ROUTERS: list[APIRouter] = [health.router, credits.router]
