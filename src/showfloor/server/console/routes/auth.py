"""Sign-in, set a password from a one-time link, sign-out and sign-out everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from showfloor.server.config import Settings
from showfloor.server.console import sessions, signin, users
from showfloor.server.console.deps import CSRF_FIELD, CheckedUser
from showfloor.server.console.passwords import strength_problem
from showfloor.server.console.tokens import new_token, same
from showfloor.server.console.web import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    ConsoleRoute,
    CsrfRefused,
    clear_cookie,
    client_ip,
    read_form,
    redirect,
    render,
    set_cookie,
)
from showfloor.server.db.uow import Database

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

SIGNED_OUT_NOTICES = {
    "out": "You are signed out.",
    "everywhere": "You are signed out on every device.",
}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console page of this site, never another site."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


def _form_page(request: Request, template: str, context: dict[str, object], status: int = 200) -> Response:
    """A page with a pre-session form: its CSRF token is the ``sf_form`` cookie, set if missing."""
    token = request.cookies.get(PRE_SESSION_COOKIE) or new_token()
    response = render(request, template, {**context, "form_token": token}, status)
    set_cookie(response, request, PRE_SESSION_COOKIE, token)
    return response


async def _check_form_token(request: Request) -> None:
    cookie = request.cookies.get(PRE_SESSION_COOKIE, "")
    sent = (await read_form(request)).get(CSRF_FIELD)
    if not cookie or not sent or not same(cookie, sent):
        raise CsrfRefused()


@router.get("/login")
async def login_page(
    request: Request,
    next_url: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _form_page(
        request,
        "login.html",
        {"next": safe_next(next_url), "notice": SIGNED_OUT_NOTICES.get(notice or ""), "email": ""},
    )


@router.post("/login")
async def login(request: Request) -> Response:
    await _check_form_token(request)
    form = await read_form(request)
    email, next_url = form.get("email").strip(), safe_next(form.get("next"))
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    outcome = await signin.sign_in(
        db, settings, email, form.get("password"), client_ip(request), datetime.now(UTC)
    )
    if outcome.token is None:
        status = 429 if outcome.retry_after is not None else 401
        response = _form_page(
            request, "login.html", {"next": next_url, "error": outcome.error, "email": email}, status
        )
        if outcome.retry_after is not None:
            response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    response = redirect(request, next_url)
    set_cookie(response, request, SESSION_COOKIE, outcome.token)
    return response


INVALID_LINK = (
    "This link is no longer valid (used, replaced by a newer one, or older than 24 hours). "
    "Ask your operator for a new one."
)


async def _link_email(request: Request, token: str) -> str | None:
    db: Database = request.app.state.db
    async with db.read() as session:
        user = await users.link_user(session, token, datetime.now(UTC)) if token else None
    return None if user is None else user.email


@router.get("/setup")
async def setup_page(request: Request, token: Annotated[str, Query(max_length=200)] = "") -> Response:
    email = await _link_email(request, token)
    if email is None:
        return render(request, "error.html", {"status": 400, "message": INVALID_LINK}, 400)
    return _form_page(request, "setup.html", {"token": token, "email": email})


@router.post("/setup")
async def setup(request: Request) -> Response:
    await _check_form_token(request)
    form = await read_form(request)
    token, password = form.get("token"), form.get("password")
    email = await _link_email(request, token)
    if email is None:
        return render(request, "error.html", {"status": 400, "message": INVALID_LINK}, 400)
    problem = "The two passwords differ." if password != form.get("password_again") else None
    problem = problem or strength_problem(password)
    if problem is not None:
        return _form_page(request, "setup.html", {"token": token, "email": email, "error": problem}, 400)
    session_token = await signin.set_password(request.app.state.db, token, password, datetime.now(UTC))
    response = redirect(request, "/console")
    set_cookie(response, request, SESSION_COOKIE, session_token)
    return response


@router.post("/logout")
async def logout(request: Request, user: CheckedUser) -> Response:
    db: Database = request.app.state.db
    async with db.write() as session:
        await sessions.end(session, request.cookies.get(SESSION_COOKIE, ""), datetime.now(UTC))
    response = redirect(request, "/console/login?notice=out")
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.post("/logout-everywhere")
async def logout_everywhere(request: Request, user: CheckedUser) -> Response:
    db: Database = request.app.state.db
    async with db.write() as session:
        await sessions.end_all(session, user.user_id, datetime.now(UTC))
    response = redirect(request, "/console/login?notice=everywhere")
    clear_cookie(response, request, SESSION_COOKIE)
    return response
