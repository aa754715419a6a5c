"""The console in Azerbaijani, English and Russian: each person's pick, on every page."""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from babel.messages import pofile

from korpu.console import i18n
from korpu_contracts import referral, streams, vocabulary
from korpu_contracts.envelope import Envelope, source_of
from support import bus
from support.console import ConsoleProcess, csrf_of

SHELTER = streams.requests(vocabulary.Service.SHELTER)
LETTERS = streams.dead_letters("shelter")
# English a page left untranslated would show, beyond the catalog's own messages.
ENGLISH = ["Sign out", "Dead letters", "Overview", "What is wrong", "pending in", "Dry run"]


@pytest.fixture
def client(redis_db: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_db, decode_responses=True) as connection:
        yield connection


@pytest.fixture
def person(console: ConsoleProcess) -> tuple[str, str]:
    name = f"lang-{uuid.uuid4().hex[:6]}"
    return name, console.account(name, "operator")


def test_before_sign_in_the_browser_s_language_is_spoken(console: ConsoleProcess) -> None:
    with console.client() as http:
        page = http.get("/sign-in", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
        assert '<html lang="ru">' in page.text
        assert "Войти" in page.text
        assert "Sign in" not in page.text
        assert '<html lang="en">' in http.get("/sign-in", headers={"Accept-Language": "fr"}).text


def test_the_switch_before_sign_in_keeps_the_pick_in_a_cookie(console: ConsoleProcess) -> None:
    with console.client() as http:
        token = csrf_of(http.get("/sign-in?next=/trace").text)
        answer = http.post(
            "/language", data={"language": "az", "csrf": token, "next": "/sign-in?next=/trace"}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sign-in?next=/trace"
        assert http.cookies[i18n.COOKIE] == "az"
        page = http.get("/sign-in?next=/trace", headers={"Accept-Language": "ru"})
        assert '<html lang="az">' in page.text
        assert "Daxil ol" in page.text


def test_signed_in_every_page_speaks_the_person_s_language_and_keeps_it(
    console: ConsoleProcess, client: redis.Redis, person: tuple[str, str]
) -> None:
    referral_id, letter = _a_stuck_referral(client), _a_dead_letter(client)
    signed = console.signed_in(*person)
    answer = signed.post("/language", language="az", next="/dead-letters")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dead-letters"
    pages = {
        "overview": signed.http.get("/"),
        "dead letters": signed.http.get("/dead-letters"),
        "a dead letter": signed.http.get(f"/dead-letter?id={letter}"),
        "trace": signed.http.get(f"/trace?id={referral_id}"),
        "capacity": signed.http.get("/capacity"),
        "recover": signed.http.get("/recover"),
        "a dry run": signed.post("/recover", since="2m"),
        "a time in the future": signed.post("/recover", since="2999-01-01T00:00:00Z"),
        "a forged form": signed.http.post("/recover", data={"since": "2m", "csrf": "forged"}),
    }
    for name, page in pages.items():
        assert '<html lang="az">' in page.text, name
        assert _english_in(page.text) == [], name
    assert "İşlənə bilməyən hadisələr" in pages["dead letters"].text
    assert "oxuyan yoxdur" in pages["overview"].text
    assert "emalda" in pages["trace"].text
    assert "Sınaq sayımı" in pages["a dry run"].text
    assert "gələcəkdədir" in pages["a time in the future"].text
    assert pages["a forged form"].status_code == 403
    signed.http.close()
    # The next sign-in, from a browser that never picked (no cookie): still Azerbaijani.
    again = console.signed_in(*person)
    assert '<html lang="az">' in again.http.get("/", headers={"Accept-Language": "ru"}).text
    again.http.close()


def test_a_language_form_without_the_page_s_token_is_refused(
    console: ConsoleProcess, person: tuple[str, str]
) -> None:
    with console.client() as outsider:
        refused = outsider.post("/language", data={"language": "ru", "next": "/"})
        assert refused.status_code == 403
        assert i18n.COOKIE not in outsider.cookies
    signed = console.signed_in(*person)
    forged = signed.http.post("/language", data={"language": "ru", "csrf": "x", "next": "/"})
    assert forged.status_code == 403
    other_site = signed.http.post(
        "/language",
        data={"language": "ru", "csrf": signed.csrf, "next": "/"},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert other_site.status_code == 403
    assert '<html lang="en">' in signed.http.get("/").text
    signed.http.close()


def test_a_language_the_console_does_not_speak_is_refused(
    console: ConsoleProcess, person: tuple[str, str]
) -> None:
    signed = console.signed_in(*person)
    answer = signed.post("/language", language="fr", next="/")
    assert answer.status_code == 403
    assert '<html lang="en">' in signed.http.get("/").text
    signed.http.close()


def test_the_header_offers_every_language_on_every_page(console: ConsoleProcess) -> None:
    with console.client() as http:
        page = http.get("/sign-in").text
        for code in i18n.LANGUAGES:
            assert f'name="language" value="{code}"' in page
        missing = http.get("/no-such-page", headers={"Accept-Language": "ru"})
        assert missing.status_code == 404
        assert "Такой страницы нет." in missing.text


def _english_in(page: str) -> list[str]:
    """The catalog's English sentences (their parts between values) found on `page`."""
    text = html.unescape(page)
    found = [phrase for phrase in _english_phrases() if phrase in text]
    return found + [phrase for phrase in ENGLISH if phrase in text]


def _english_phrases() -> list[str]:
    with (i18n.LOCALES / "console.pot").open("rb") as source:
        template = pofile.read_po(source)
    phrases = []
    for message in template:
        for text in [message.id] if isinstance(message.id, str) else message.id:
            parts = re.split(r"%\(\w+\)[sd]", text)
            phrases += [part.strip() for part in parts if len(part.strip()) >= 10]
    return phrases


def _a_stuck_referral(client: redis.Redis) -> str:
    """A shelter request read by the shelter and never acknowledged."""
    referral_id = str(uuid.uuid4())
    payload = referral.TaskRequested(
        task_id=str(uuid.uuid4()), referral_id=referral_id,
        service=vocabulary.Service.SHELTER, region="AZ-BA", is_child=False, sex="female",
    )  # fmt: skip
    request = Envelope.wrap(payload, source=source_of("referral"), subject=referral_id)
    # Two minutes old and unread by anyone since: the overview says it has no reader.
    two_minutes_ago = int(time.time() * 1000) - 120_000
    client.xadd(SHELTER, bus.entry(SHELTER, request), id=f"{two_minutes_ago}-0")  # type: ignore[arg-type]
    client.xgroup_create(SHELTER, "shelter", id="0")
    client.xgroup_create(SHELTER, "watchers", id="0")
    client.xreadgroup("shelter", "shelter-1", {SHELTER: ">"})
    return referral_id


def _a_dead_letter(client: redis.Redis) -> str:
    event = {"id": "ev-1", "type": "referral.task.requested", "subject": "case-1", "data": {}}
    fields = {
        "origin_stream": SHELTER, "origin_id": "1767225600000-0", "group": "shelter",
        "handler": "shelter", "error": "TimeoutError", "deliveries": "5",
        "dead_at": "2026-12-07T00:00:00+00:00", streams.ENTRY_FIELD: json.dumps(event),
    }  # fmt: skip
    return str(client.xadd(LETTERS, bus.signer("shelter").signed(LETTERS, fields)))  # type: ignore[arg-type]
