"""The account owner's web console at ``/console``: server-rendered pages (Jinja2 + vendored htmx)
over the same services as the API. See docs/console.md."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install_console(app: FastAPI) -> None:
    from showfloor.server.console.formatting import install_filters
    from showfloor.server.console.routes import ROUTERS
    from showfloor.server.console.web import STATIC_DIR

    install_filters()
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
