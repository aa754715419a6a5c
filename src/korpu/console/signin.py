"""Signing in and out: the only pages shown before a session exists."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection

from korpu.console import accounts, i18n, web

SIGN_IN_SECONDS = 15 * 60


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/sign-in")
    def form(request: Request, next: str = "/") -> Response:
        return _form(request, web.local_target(next))

    @api.post("/sign-in")
    def sign_in(
        request: Request,
        parts: web.Parts,
        name: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=accounts.PASSWORD_MAX)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
        next: Annotated[str, Form(max_length=500)] = "/",
    ) -> Response:
        web.check_origin(request)
        expected = request.cookies.get(web.SIGN_IN_COOKIE, "")
        if not expected or not hmac.compare_digest(csrf, expected):
            message = i18n.N_(
                "The sign-in form had expired or came from elsewhere: please try again."
            )
            return _form(request, web.local_target(next), message, 400)

        def attempt(conn: Connection) -> tuple[accounts.Session, str] | None:
            # Caught inside the transaction, so the failure's count and record commit.
            try:
                return accounts.sign_in(conn, parts.settings, name.strip(), password)
            except accounts.SignInRefused:
                return None

        signed = parts.db.transaction(attempt)
        if signed is None:
            message = i18n.N_(
                "Wrong name or password. After repeated failures an account is locked for a while."
            )
            return _form(request, web.local_target(next), message, 401)
        _session, token = signed
        answer = RedirectResponse(web.local_target(next), status_code=303)
        seconds = int(parts.settings.session_hours * 3600)
        web.set_cookie(answer, request, web.COOKIE, token, seconds)
        answer.delete_cookie(web.SIGN_IN_COOKIE, path="/")
        return answer

    @api.post("/sign-out")
    def sign_out(
        request: Request,
        parts: web.Parts,
        found: web.Viewer,
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        web.check_origin(request)
        if not hmac.compare_digest(csrf, found.csrf_token):
            raise web.Forbidden(i18n.N_("The form was not sent from this console's page."))
        token = request.cookies.get(web.COOKIE, "")
        parts.db.transaction(lambda conn: accounts.sign_out(conn, token, found.user))
        answer = RedirectResponse("/sign-in", status_code=303)
        answer.delete_cookie(web.COOKIE, path="/")
        return answer

    @api.post("/language")
    def language(
        request: Request,
        parts: web.Parts,
        language: Annotated[str, Form(max_length=5)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
        next: Annotated[str, Form(max_length=500)] = "/",
    ) -> Response:
        """Each person's pick: kept with the account when signed in, in a cookie before."""
        web.check_origin(request)
        if language not in i18n.LANGUAGES:
            raise web.Forbidden(i18n.N_("That language is not one the console speaks."))
        try:
            found: accounts.Session | None = web.session(request)
        except web.SignInNeeded:
            found = None
        expected = found.csrf_token if found else request.cookies.get(web.SIGN_IN_COOKIE, "")
        if not expected or not hmac.compare_digest(csrf, expected):
            raise web.Forbidden(i18n.N_("The form was not sent from this console's page."))
        if found is not None:
            user = found.user
            parts.db.transaction(lambda conn: accounts.set_language(conn, user, language))
        answer = RedirectResponse(web.local_target(next), status_code=303)
        web.set_cookie(answer, request, i18n.COOKIE, language, 365 * 24 * 3600)
        return answer

    return api


def _form(request: Request, target: str, message: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    answer = web.render(request, "sign_in.html", status, csrf=token, next=target, message=message)
    web.set_cookie(answer, request, web.SIGN_IN_COOKIE, token, SIGN_IN_SECONDS)
    return answer
