"""The console's web plumbing: templates, cookies, HTTPS detection, form bodies, CSRF, and the route
class that turns errors into pages.

Console routes answer HTML (never the API's JSON error body): a domain error renders ``error.html``
with the status the API would use, a missing session redirects to the sign-in page, a bad CSRF token
is a 403 page. Every console response carries ``Cache-Control: no-store`` and a strict CSP.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from showfloor.server.api.errors import status_for
from showfloor.server.errors import DomainError

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC_DIR = Path(__file__).parent / "static"

SESSION_COOKIE = "sf_session"
# The sign-in and set-password forms have no session yet: their CSRF token is this cookie's value,
# repeated in the form (double submit), so another site cannot sign a browser in to its own account.
PRE_SESSION_COOKIE = "sf_form"
COOKIE_PATH = "/console"
MAX_FORM_BYTES = 256 * 1024

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a set-password link carries its token in the URL
}


class SignInRequired(Exception):
    """No live session: the route class sends the browser to the sign-in page."""


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (then cookies are ``Secure``): the request's scheme, which
    is the trusted proxy's ``X-Forwarded-Proto`` behind ``SHOWFLOOR_TRUSTED_PROXIES`` (api/proxies.py)."""
    return request.url.scheme == "https"


def client_ip(request: Request) -> str:
    """The client's address for sign-in throttling (``X-Forwarded-For`` from a trusted proxy only:
    api/proxies.py has already put it in the scope)."""
    return request.client.host if request.client else "unknown"


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    """A browser-session cookie (no Max-Age): HttpOnly, SameSite=Lax, Secure over HTTPS."""
    response.set_cookie(
        name, value, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_https(request)
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_https(request))


class Form:
    """An ``application/x-www-form-urlencoded`` body (what browsers and htmx send)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        return next((value for key, value in self._pairs if key == name), default)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


async def read_form(request: Request) -> Form:
    cached: Form | None = getattr(request.state, "console_form", None)
    if cached is not None:
        return cached
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("", "application/x-www-form-urlencoded"):
        raise DomainError("Send the form as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise DomainError("The form is too large")
    try:
        form = Form(parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=5000))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DomainError("The form could not be read") from exc
    request.state.console_form = form
    return form


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def redirect(request: Request, url: str) -> Response:
    """See Other (after a POST); an htmx request is told to navigate instead."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or is_htmx(request):
        target = "/console"
    return f"/console/login?next={quote(target, safe='')}"


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Endpoint:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                response = redirect(request, sign_in_url(request))
            except CsrfRefused:
                message = (
                    "The form was stale or did not come from this console. Reload the page and try again."
                )
                response = render(request, "error.html", {"status": 403, "message": message}, 403)
            except DomainError as exc:
                status = status_for(exc.code)
                response = render(request, "error.html", {"status": status, "message": exc.message}, status)
            except RequestValidationError:
                response = render(request, "error.html", {"status": 400, "message": "Invalid request"}, 400)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return run
