"""The console in a real browser against a running `korpu up`: signing in, the overview, and a
request the shelter failed, dead-lettered, replayed by an operator and then processed, while a
viewer's replay is refused by the server whatever the page shows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from korpu import catalog
from korpu_contracts import streams
from support import browser, referrals
from support.infra import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Women in Baku asking for a bed only: the demo directory has one for each. Two people
# and two cases, since the same one referred again is linked to her open case instead.
SHELTER_ONLY = {"needs": ["shelter"], "consent": {"shelter": "granted"}}
AYSEL = referrals.referral_body(**SHELTER_ONLY, agency_reference="POL-2026-0101")
NIGAR = referrals.referral_body(**SHELTER_ONLY, agency_reference="POL-2026-0102")
NIGAR["person"] = {"given_name": "Nigar", "family_name": "Əhmədova", "date_of_birth": "1997-02-03",
                   "sex": "female", "languages": ["az"]}  # fmt: skip
# A viewer's own page, changed by hand (the browser's console): the replay form it was not shown.
FORGED_REPLAY = """({csrf, id}) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/dead-letters/replay";
  for (const [name, value] of Object.entries({csrf, id})) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}"""


def test_nothing_of_the_queues_before_sign_in_then_an_operator_sees_streams_and_services(
    system: browser.System, page: Page
) -> None:
    password = system.account("amina", "operator")
    page.goto(f"{system.console}/")
    assert "/sign-in" in page.url
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shown = page.content()
    assert not any(stream in shown for stream in streams.REQUESTS_BY_SERVICE.values())
    assert "dead letter" not in shown.lower()

    page.get_by_label("Name").fill("amina")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert page.url == f"{system.console}/"
    expect(page.locator("table.streams")).to_contain_text(streams.SHELTER_REQUESTS)
    expect(page.locator("table.streams")).to_contain_text("referral-coordinator")
    services = page.get_by_role("region", name="Services").locator("tbody tr")
    expect(services).to_have_count(len(catalog.SERVICES))
    readiness = {
        row.locator("td").nth(0).inner_text(): row.locator("td").nth(2).inner_text()
        for row in services.all()
    }
    assert readiness == dict.fromkeys(catalog.SERVICES, "ready")
    # It reads the queues again by itself (htmx, under the page's CSP), no reload.
    read_at = page.get_by_text("Refreshed every").inner_text()
    expect(page.get_by_text("Refreshed every")).not_to_have_text(read_at, timeout=15_000)


def test_a_request_the_shelter_failed_is_replayed_from_its_page_and_then_answered(
    system: browser.System, page: Page
) -> None:
    browser.sign_in(page, system.console, "rustam", system.account("rustam", "operator"))
    referral_id, letter = _dead_letter_of_a_failed_shelter_request(system, page, AYSEL)
    assert system.referral_view(referral_id)["services"]["shelter"]["status"] == "requested"

    page.get_by_role("link", name=letter).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(letter)
    expect(page.locator("pre.error")).to_contain_text(
        f"no such table: {browser.SHELTER_DIRECTORY_TABLE}"
    )
    # The event is described, its person is not: no name, no phone on any page.
    shown = page.content()
    assert "Məmmədova" not in shown and "+994501234567" not in shown

    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("status")).to_contain_text(f"Replayed {letter}")
    assert letter not in _letters(page)

    def answered() -> str | None:
        status = system.referral_view(referral_id)["services"]["shelter"]["status"]
        return None if status == "requested" else str(status)

    assert wait_until(answered, timeout=30, interval=0.2) == "accepted"
    page.reload()
    assert letter not in _letters(page)


def test_a_viewer_sees_no_replay_button_and_the_server_refuses_the_form_sent_by_hand(
    system: browser.System, page: Page
) -> None:
    browser.sign_in(page, system.console, "leyla", system.account("leyla", "viewer"))
    _referral_id, letter = _dead_letter_of_a_failed_shelter_request(system, page, NIGAR)

    page.get_by_role("link", name=letter).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(letter)
    expect(page.get_by_text("an operator replays or discards them")).to_be_visible()
    expect(page.get_by_role("button", name="Replay")).to_have_count(0)
    expect(page.get_by_role("button", name="Discard")).to_have_count(0)

    # Her own session cookie and CSRF token (the sign-out form's): only her role is wrong.
    csrf = page.locator("form.who input[name=csrf]").input_value()
    with page.expect_response(lambda answer: answer.request.method == "POST") as sent:
        page.evaluate(FORGED_REPLAY, {"csrf": csrf, "id": letter})
    assert sent.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("Only an operator may do this")

    page.goto(f"{system.console}/dead-letters")
    assert letter in _letters(page)


def _dead_letter_of_a_failed_shelter_request(
    system: browser.System, page: Page, referral: dict[str, Any]
) -> tuple[str, str]:
    """A referral whose shelter request failed while the shelter's directory was away,
    and the id of its dead letter, seen on the Dead letters page; the directory is back."""
    page.goto(f"{system.console}/dead-letters")
    before = _letters(page)
    with system.shelter_directory_away():
        referral_id = system.submit(referral)

        def new_letter() -> str:
            page.reload()
            added = _letters(page) - before
            return added.pop() if added else ""

        letter = wait_until(new_letter, timeout=30, interval=0.3, message="no dead letter")
    return referral_id, letter


def _letters(page: Page) -> set[str]:
    """The ids of the dead letters listed on the page."""
    return set(page.locator("table tbody tr td:first-child a").all_inner_texts())
