"""The console's screenshots for the README, taken from a `korpu up` of their own.

    scripts/screenshots [--out docs/images]

Starts `korpu up` in a temporary folder (its embedded Redis, free ports), loads the demo
directory and the demo's referrals, makes one dead letter (a shelter request failed while
the shelter's directory table was away, as `tests/browser` does), creates an operator,
and saves `console-<page>.png` of each page at 1280 pixels wide. A page this build does
not have (404) is skipped and said so. Then, switching language with the header's
buttons as a person would, `console-overview-<language>.png` and
`console-dead-letter-<language>.png` in Azerbaijani and Russian (`--languages` to choose;
none with `--languages ""`). Needs Chromium (`scripts/machine-tools`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from playwright import sync_api

from korpu import demo
from support import browser, referrals
from support.infra import wait_until

REPOSITORY = Path(__file__).resolve().parents[1]
# An operator as the README shows one signed in.
OPERATOR = "amina"
# The dead letter's own referral: a person none of the demo's is.
LATE = referrals.referral_body(
    agency_reference="DEMO-011",
    needs=["shelter"],
    consent={"shelter": "granted"},
    person={"given_name": "Günel", "family_name": "Rzayeva", "date_of_birth": "1999-06-21",
            "sex": "female", "languages": ["az"]},
)  # fmt: skip
# The pages shown after sign-in, in the order of the console's menu.
PAGES = ("overview", "dead-letters", "dead-letter", "recover", "trace", "capacity")
# The pages shown again in each other language: what an operator looks at most.
IN_EACH_LANGUAGE = ("overview", "dead-letter")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPOSITORY / "docs" / "images")
    parser.add_argument("--languages", default="az,ru", help="comma-separated, e.g. az,ru")
    arguments = parser.parse_args()
    out = arguments.out
    languages = [code for code in arguments.languages.split(",") if code]
    if browser.chromium() is None:
        print(browser.MISSING, file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="korpu-screenshots-") as folder:
        print("Starting korpu up ...", file=sys.stderr)
        with browser.running(Path(folder) / "data", browser.ONE_TRY) as system:
            _referrals(system)
            password = system.account(OPERATOR, "operator")
            with sync_api.sync_playwright() as playwright:
                chromium = browser.launch(playwright)
                page = chromium.new_context(viewport=browser.VIEWPORT).new_page()
                _take(page, system, password, out)
                for language in languages:
                    _take_in(page, system.console, language, out)
                chromium.close()
    return 0


def _referrals(system: browser.System) -> None:
    """The demo's referrals, answered."""
    ids = [system.submit(sample.body) for sample in demo.samples()]

    def settled() -> bool:
        views = [system.referral_view(referral_id) for referral_id in ids]
        return not any(view["status"] in ("received", "coordinating") for view in views)

    wait_until(settled, timeout=60, interval=0.5, message="the demo's referrals unanswered")
    print(f"{len(ids)} referrals answered", file=sys.stderr)


def _dead_letter(page: sync_api.Page, system: browser.System) -> str:
    """One referral whose shelter request failed and was given up at once (ONE_TRY); its id."""
    with system.shelter_directory_away():
        late: str = system.submit(LATE)

        def listed() -> int:
            page.goto(f"{system.console}/dead-letters")
            return page.locator("table tbody tr").count()

        wait_until(listed, timeout=30, interval=0.5, message="no dead letter")
    return late


def _take(page: sync_api.Page, system: browser.System, password: str, out: Path) -> None:
    page.goto(f"{system.console}/")
    _save(page, out, "sign-in")
    browser.sign_in(page, system.console, OPERATOR, password)
    late = _dead_letter(page, system)
    for name in PAGES:
        if _open(page, system.console, name, late):
            _save(page, out, name)
        else:
            print(f"  {name}: no such page in this build, skipped", file=sys.stderr)


def _take_in(page: sync_api.Page, console: str, language: str, out: Path) -> None:
    """The header's button for `language`, pressed on the overview; then its pages."""
    page.goto(f"{console}/")
    page.locator(f'form.languages button[value="{language}"]').click()
    page.wait_for_url(f"{console}/")
    for name in IN_EACH_LANGUAGE:
        _open(page, console, name, late="")
        _save(page, out, f"{name}-{language}")


def _open(page: sync_api.Page, console: str, name: str, late: str) -> bool:
    """The page as a person would see it after using it; False when the build has none.
    The trace is the dead-lettered referral's: "where is it stuck?"."""
    if name == "overview":
        answer: Any = page.goto(f"{console}/")
    elif name == "dead-letter":
        page.goto(f"{console}/dead-letters")
        page.locator("table tbody tr td:first-child a").first.click()
        return True
    elif name == "recover":
        page.goto(f"{console}/recover")
        page.get_by_label("Since").fill("1h")
        page.get_by_role("button", name="Count (dry run)").click()
        page.wait_for_load_state()
        return True
    elif name == "trace":
        answer = page.goto(f"{console}/trace?id={late}")
    else:
        answer = page.goto(f"{console}/{name}")
    return answer is not None and answer.status != 404


def _save(page: sync_api.Page, out: Path, name: str) -> None:
    path = out / f"console-{name}.png"
    page.screenshot(path=path, full_page=True)
    print(f"  {path.relative_to(REPOSITORY) if path.is_relative_to(REPOSITORY) else path}")


if __name__ == "__main__":
    sys.exit(main())
