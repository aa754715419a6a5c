"""What every page shares: the console's parts, who is signed in, CSRF, and rendering.

Pages are built from these dependencies (full-stack-fastapi-template's `api/deps.py`):
a route asks for `Viewer` to be seen by anyone signed in, `Operator` to act, and a
form's route checks its CSRF token with `acting`. Roles are enforced here, on the
server: a viewer's request to act gets 403 whatever the page showed.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
from pathlib import Path
from typing import Annotated, Any, NoReturn

import redis
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from korpu.console import accounts, i18n
from korpu.console.settings import ConsoleSettings
from korpu_runtime.database import Database

COOKIE = "korpu_console_session"
# The sign-in form's own CSRF token, before there is a session (double submit).
SIGN_IN_COOKIE = "korpu_console_sign_in"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
i18n.install(TEMPLATES.env)
TEMPLATES.env.filters["age"] = i18n.age


@dataclasses.dataclass
class Console:
    """The console's parts, built once in `bootstrap` and found on `app.state.console`."""

    settings: ConsoleSettings
    db: Database
    redis: redis.Redis
    # Each (stream, group)'s lags seen lately: whether a lag grows (`overview`).
    lags: dict[tuple[str, str], list[tuple[float, int]]] = dataclasses.field(default_factory=dict)


class SignInNeeded(Exception):
    """No live session: a page sends the person to sign in, nothing else."""


class Refusal(Exception):
    """What a page says instead of its content: a message (marked with `i18n.N_`) and
    the values it names, translated on the error page."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.said = i18n.Said(message, params)


class Forbidden(Refusal):
    """Signed in, but this needs an operator, or the form's CSRF token is wrong."""


class NotFound(Refusal):
    """What a page names is not there (404, said on a page)."""


class Unavailable(Refusal):
    """Redis or a service cannot be reached: nothing was done (503, said on a page)."""


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def session(request: Request) -> accounts.Session:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        raise SignInNeeded()
    parts = console(request)
    found = parts.db.transaction(lambda conn: accounts.session(conn, parts.settings, token))
    if found is None:
        raise SignInNeeded()
    request.state.session = found
    return found


def operator(found: Annotated[accounts.Session, Depends(queues)]) -> accounts.Session:
    if not found.user.may_act:
        raise Forbidden(i18n.N_("Only an operator may do this; your role is viewer."))
    return found


def queues(
    request: Request, found: Annotated[accounts.Session, Depends(session)]
) -> accounts.Session:
    """The queues' pages are for operators and viewers; a case worker or coordinator
    asking for one is sent to their own pages (`HOME`), and refused any action on them."""
    if not found.user.watches_queues:
        _elsewhere(request, found)
    return found


def _elsewhere(request: Request, found: accounts.Session) -> NoReturn:
    if request.method == "GET":
        raise Elsewhere(HOME[found.user.role])
    raise Forbidden(i18n.N_("This is not for your role."))


Viewer = Annotated[accounts.Session, Depends(queues)]
Operator = Annotated[accounts.Session, Depends(operator)]
Parts = Annotated[Console, Depends(console)]


async def checked_form(request: Request, found: accounts.Session) -> dict[str, str]:
    """A page's form, once its CSRF token (the session's) and its origin are checked."""
    form = await request.form()
    check_origin(request)
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, found.csrf_token):
        raise Forbidden(
            i18n.N_("The form was not sent from this console's page (CSRF check failed).")
        )
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def acting(request: Request, found: Operator) -> dict[str, str]:
    """The form of an operator's action, checked (`checked_form`)."""
    return await checked_form(request, found)


Action = Annotated[dict[str, str], Depends(acting)]


def check_origin(request: Request) -> None:
    """A browser names the page that sent a form: it must be one of ours. (SameSite
    cookies and the token already refuse another site; this is the third lock.)"""
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin != own_origin(request):
        raise Forbidden(i18n.N_("The form was sent from another site."))


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def secure_cookies(request: Request) -> bool:
    """Secure unless served over plain HTTP on this machine (the demo), where a browser
    would drop a Secure cookie from a non-loopback name: 127.0.0.1 and localhost only."""
    if request.url.scheme == "https":
        return True
    host = request.url.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="strict",
    )


def language_of(request: Request) -> str:
    """The person's own pick; before sign-in the cookie's, else the browser's, else English."""
    found: accounts.Session | None = getattr(request.state, "session", None)
    if found is not None and found.user.language in i18n.LANGUAGES:
        return str(found.user.language)
    picked = request.cookies.get(i18n.COOKIE, "")
    if picked in i18n.LANGUAGES:
        return picked
    return i18n.best(request.headers.get("accept-language"))


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    found = getattr(request.state, "session", None)
    language = language_of(request)
    i18n.use(language)
    context = {
        "session": found,
        "user": found and found.user,
        "language": language,
        "languages": i18n.LANGUAGES,
        "switch": _switch(request, found, context.get("csrf")),
        **context,
    }
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def _switch(
    request: Request, found: accounts.Session | None, sign_in_token: str | None
) -> dict[str, str]:
    """The header's language form: the session's token, or before sign-in the sign-in
    form's (the page's own, else its cookie's); back to this page after, if it is one
    a link can open again (rejected: the page of a POST, which a GET would not find)."""
    if found is not None:
        token = found.csrf_token
    else:
        token = sign_in_token or request.cookies.get(SIGN_IN_COOKIE, "")
    here = request.url.path
    if request.url.query:
        here += "?" + request.url.query
    return {"csrf": token, "next": local_target(here) if request.method == "GET" else "/"}


def to_sign_in(request: Request) -> Response:
    """A page asked for without a session: to the sign-in page, coming back after."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.headers.get("hx-request"):
        # htmx refreshing a part of a page: the whole page goes to sign in.
        return Response(status_code=401, headers={"HX-Redirect": "/sign-in"})
    if request.method != "GET":
        target = "/"
    return RedirectResponse(f"/sign-in?next={_local(target)}", status_code=303)


def _local(target: str) -> str:
    """Only a path of this console: `next` never sends anyone to another site."""
    from urllib.parse import quote

    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    return quote(target, safe="/")


def local_target(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# Each role's first page.
HOME = {
    accounts.Role.VIEWER: "/",
    accounts.Role.OPERATOR: "/",
    accounts.Role.CASE_WORKER: "/tasks",
    accounts.Role.COORDINATOR: "/cases",
}


class Elsewhere(Exception):
    """A page of another role's: to the person's own first page."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def tied(role: accounts.Role) -> Any:
    """The dependency admitting `role` alone (a case worker, a coordinator)."""

    def admitted(
        request: Request, found: Annotated[accounts.Session, Depends(session)]
    ) -> accounts.Session:
        if found.user.role is not role:
            _elsewhere(request, found)
        return found

    return admitted


CaseWorker = Annotated[accounts.Session, Depends(tied(accounts.Role.CASE_WORKER))]
Coordinator = Annotated[accounts.Session, Depends(tied(accounts.Role.COORDINATOR))]


@dataclasses.dataclass(frozen=True)
class Delegate:
    """Where a tied person's service answers, and their own key there (never shown)."""

    base_url: str
    headers: dict[str, str]


def delegate(parts: Console, found: accounts.Session) -> Delegate:
    """The person's own key at their service, opened for this request only."""
    from korpu.console import delegation

    tie = found.user.tie
    if tie is None or tie.service not in parts.settings.service_urls:
        raise Unavailable(i18n.N_("Your account's service is not known to the console."))
    name = found.user.name
    sealed = parts.db.transaction(lambda conn: accounts.sealed_key(conn, name))
    if sealed is None:
        raise Forbidden(i18n.N_("Your account has no key: ask an operator to make it again."))
    api_key = delegation.Sealer(parts.settings.keys_dir).open(sealed, name)
    base = parts.settings.service_urls[tie.service]
    return Delegate(base, {"Authorization": f"Bearer {api_key}"})
