"""Every console router. A new page adds its router here and its entry to ``console.nav.NAV``."""

from fastapi import APIRouter

from showfloor.server.console.routes import auth, overview

ROUTERS: list[APIRouter] = [auth.router, overview.router]
