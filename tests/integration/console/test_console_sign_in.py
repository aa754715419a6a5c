"""Before sign-in the console shows nothing about the queues; roles are enforced by the server."""

from __future__ import annotations

import json

import httpx
import redis

from korpu_contracts import streams
from support.console import ConsoleProcess, csrf_of, sign_in

PAGES = ["/", "/overview", "/dead-letters", "/dead-letter?id=1-0", "/recover"]


def test_before_sign_in_no_page_shows_anything_about_the_queues(
    console: ConsoleProcess, redis_db: str
) -> None:
    with redis.Redis.from_url(redis_db) as client:
        client.xadd(streams.SHELTER_REQUESTS, {"event": "{}"})
    with console.client() as http:
        for page in PAGES:
            answer = http.get(page)
            assert answer.status_code == 303, page
            assert answer.headers["location"].startswith("/sign-in?next=")
            assert streams.SHELTER_REQUESTS not in answer.text
        # htmx refreshing the overview's body is sent to sign in as a whole page.
        refresh = http.get("/overview", headers={"HX-Request": "true"})
        assert refresh.status_code == 401
        assert refresh.headers["hx-redirect"] == "/sign-in"
        for action in ["/dead-letters/replay", "/dead-letters/discard", "/recover", "/sign-out"]:
            refused = http.post(action, data={"id": "1-0", "since": "1h", "csrf": "x"})
            assert refused.status_code == 303, action
            assert refused.headers["location"].startswith("/sign-in")


def test_an_operator_signs_in_sees_the_overview_and_signs_out(
    console: ConsoleProcess, redis_db: str
) -> None:
    with redis.Redis.from_url(redis_db) as client:
        client.xadd(streams.SHELTER_REQUESTS, {"event": "{}"})
    password = console.account("gunel", "operator")
    with console.client() as http:
        answer = sign_in(http, "gunel", password)
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Max-Age=28800" in cookie
        overview = http.get("/")
        assert overview.status_code == 200
        assert streams.SHELTER_REQUESTS in overview.text
        assert "gunel" in overview.text
        # The instance nothing answers for is shown as such, in red.
        assert "unreachable" in overview.text
        out = http.post("/sign-out", data={"csrf": csrf_of(overview.text)})
        assert out.status_code == 303
        # The old cookie is worth nothing now, sent by hand as a thief would.
        with console.client() as thief:
            thief.cookies.set("korpu_console_session", _session_cookie(cookie))
            assert thief.get("/").status_code == 303


def test_cookies_are_secure_when_the_console_is_not_on_this_machine(
    console: ConsoleProcess,
) -> None:
    password = console.account("samir", "viewer")
    with console.client() as http:
        form = http.get("/sign-in", headers={"Host": "console.example.az"})
        assert "Secure" in form.headers["set-cookie"]
        answer = http.post(
            "/sign-in",
            headers={"Host": "console.example.az"},
            data={"name": "samir", "password": password, "csrf": csrf_of(form.text)},
            cookies={"korpu_console_sign_in": form.cookies["korpu_console_sign_in"]},
        )
        assert answer.status_code == 303
        assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_gets_the_same_answer_as_an_unknown_name(
    console: ConsoleProcess,
) -> None:
    console.account("farid", "viewer")
    with console.client() as http:
        wrong = sign_in(http, "farid", "not the password at all")
        unknown = sign_in(http, "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert _message(wrong.text) == _message(unknown.text)


def test_a_sign_in_form_from_elsewhere_is_refused(console: ConsoleProcess) -> None:
    password = console.account("aynur", "viewer")
    with console.client() as http:
        # No token of this console's own sign-in page: login CSRF.
        answer = http.post("/sign-in", data={"name": "aynur", "password": password})
        assert answer.status_code == 400
        token = csrf_of(http.get("/sign-in").text)
        elsewhere = http.post(
            "/sign-in",
            headers={"Origin": "https://evil.example"},
            data={"name": "aynur", "password": password, "csrf": token},
        )
        assert elsewhere.status_code == 403


def test_next_never_leads_to_another_site(console: ConsoleProcess) -> None:
    password = console.account("orkhan", "viewer")
    with console.client() as http:
        token = csrf_of(http.get("/sign-in").text)
        answer = http.post(
            "/sign-in",
            data={"name": "orkhan", "password": password, "csrf": token,
                  "next": "//evil.example/x"},
        )  # fmt: skip
        assert answer.headers["location"] == "/"


def test_the_accounts_command_lists_without_passwords_and_a_disabled_one_is_signed_out(
    console: ConsoleProcess,
) -> None:
    password = console.account("zaur", "operator")
    signed = console.signed_in("zaur", password)
    listed = console.korpu("users", "list", "--json")
    assert '"zaur"' in listed.stdout
    assert password not in listed.stdout
    assert "argon2" not in listed.stdout
    assert console.korpu("users", "disable", "zaur").returncode == 0
    assert signed.http.get("/").status_code == 303
    assert sign_in(console.client(), "zaur", password).status_code == 401


def test_metrics_need_the_scrape_token(console: ConsoleProcess) -> None:
    assert httpx.get(f"{console.url}/metrics").status_code == 401


def _session_cookie(header: str) -> str:
    return header.split("korpu_console_session=", 1)[1].split(";", 1)[0]


def _message(page: str) -> str:
    return page.split('role="alert">', 1)[1].split("<", 1)[0]


def test_every_sign_in_and_refusal_is_in_the_console_s_audit_trail(
    console: ConsoleProcess,
) -> None:
    password = console.account("ilaha", "operator")
    with console.client() as http:
        assert sign_in(http, "ilaha", "not the password at all").status_code == 401
        assert sign_in(http, "ilaha", password).status_code == 303
    read = console.korpu("audit", "--console", "--since", "10m", "--json")
    assert read.returncode == 0, read.stderr
    mine = [entry for entry in json.loads(read.stdout) if entry["target"] == "ilaha"]
    assert [(entry["action"], entry["detail"].get("why")) for entry in mine] == [
        ("user_created", None),
        ("sign_in_refused", "wrong_password"),
        ("signed_in", None),
    ]
    assert password not in read.stdout
