"""`korpu demo`: the newcomer's first run, from an empty data folder to a table of plans."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from korpu import catalog, output, seed
from korpu.embedded_redis import free_ports
from korpu.supervisor import Stack

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_DIRECTORY = REPOSITORY / "deploy" / "demo-directory.json"
SETTLE_SECONDS = 20.0
# Every kind of help, from the list of services: the demo asks for all of them.
ALL = list(catalog.PROVIDERS)
GRANTED = dict.fromkeys(ALL, "granted")
CHILD = dict.fromkeys(ALL, "not_required_child")
# The column the answers start at, after the kind of help.
WIDTH = 22


@dataclass(frozen=True)
class Sample:
    label: str
    reference: str
    body: dict[str, Any]


def _person(
    given: str, family: str, sex: str, born: str | None, languages: list[str]
) -> dict[str, Any]:
    # No birth date: the agency must say whether the person may be a child; here, not.
    age = {"date_of_birth": born} if born else {"possibly_minor": False}
    return {"given_name": given, "family_name": family, **age, "sex": sex,
            "languages": languages, "nationality": "AZ"}  # fmt: skip


def _referral(ref: str, person: dict[str, Any], region: str, consent: dict[str, str]) -> Sample:
    body = {"agency_reference": ref, "person": person, "region": region, "needs": ALL,
            "consent": consent, "circumstances": {"exploitation": ["labour"]}}  # fmt: skip
    return Sample("", ref, body)


def samples() -> list[Sample]:
    """Fictional people showing the interesting cases."""
    cases = [
        ("adult woman, Baku", "DEMO-001",
         _person("Aysel", "Məmmədova", "female", "2001-04-12", ["az", "ru"]), "Baku", GRANTED),
        ("boy of 15, Baku", "DEMO-002",
         _person("Elvin", "Quliyev", "male", _born(15), ["az"]), "Baku", CHILD),
        ("man who speaks only Russian, Ganja", "DEMO-003",
         _person("Sergei", "Ivanov", "male", "1988-09-30", ["ru"]), "Ganja", GRANTED),
    ]  # fmt: skip
    # Four men from one labour case for the two men's beds left in the region.
    for number in range(4, 8):
        cases.append((f"man {number - 3} of 4, labour case, Baku", f"DEMO-00{number}",
                      _person("Demo", f"Man {number}", "male", "1990-01-01", ["az"]),
                      "Baku", GRANTED))  # fmt: skip
    # DEMO-001's woman again, her name as her passport spells it, by a system in Russian.
    again = _person("AYSEL", "MAMMADOVA", "female", "2001-04-12", ["az"])
    cases.append(("Aysel again, spelt AYSEL MAMMADOVA", "DEMO-008", again, "Баку", GRANTED))
    # A girl in Ganja: the women's centre there has a separate children's unit.
    girl = _person("Leyla", "Həsənova", "female", _born(16), ["az"])
    cases.append(("girl of 16, Gəncə", "DEMO-009", girl, "Gəncə", CHILD))
    # No age known, and the agency says there is no reason to think her a child.
    unknown = _person("Nərgiz", "Əliyeva", "female", None, ["az"])
    cases.append(("woman of unknown age, not a minor", "DEMO-010", unknown, "AZ-BA", GRANTED))
    return [Sample(label, ref, _referral(ref, p, r, c).body) for label, ref, p, r, c in cases]


def _born(age: int) -> str:
    # Born on 1 January: exactly `age` years old on any day of this year.
    return f"{dt.date.today().year - age}-01-01"


def run(data_dir: Path, directory: Path | None) -> int:
    demo_dir = data_dir / "demo"
    # A fresh folder each run, so the demo shows the same story every time.
    shutil.rmtree(demo_dir, ignore_errors=True)
    os.environ["KORPU_DATA_DIR"] = str(demo_dir.resolve())
    print(f"Starting Körpü in {demo_dir} ...")
    # Free ports: the demo needs no fixed address, and may run beside a `korpu up`.
    ports = free_ports(catalog.PROCESSES)
    with Stack(demo_dir, redis_url=os.environ.get("REDIS_URL"), ports=ports) as stack:
        counts = seed.load(seed.read(directory or DEFAULT_DIRECTORY))
        print("Directory loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        from referral import bootstrap

        _, api_key = bootstrap.create_organization(bootstrap.Settings(), "Demo police unit")
        url = stack.processes["referral"].url
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}) as client:
            ids = _submit_all(client, samples())
            _settle(client, list(ids.values()))
            withdrawn = ids["DEMO-004"]
            client.post(f"/v1/referrals/{withdrawn}/withdraw").raise_for_status()
            print("DEMO-004 withdrawn: its bed goes to the longest-waiting man.")
            _settle(client, list(ids.values()), promoted_from=withdrawn)
            _print_table(client, ids)
        _print_beds(stack.processes["shelter"].url)
    print("Stopped. Run `korpu up` to keep the services running.")
    return 0


def _submit_all(client: httpx.Client, cases: list[Sample]) -> dict[str, str]:
    ids = {}
    for case in cases:
        answer = client.post(
            "/v1/referrals", json=case.body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        answer.raise_for_status()
        ids[case.reference] = answer.json()["id"]
        status = answer.json()["status"]
        output.show(f"  {case.reference}  {case.label:<38} -> {answer.status_code} {status}")
    return ids


def _view(client: httpx.Client, referral_id: str) -> dict[str, Any]:
    """A referral as its agency reads it; past the key's rate limit, after the wait it is told."""
    while True:
        answer = client.get(f"/v1/referrals/{referral_id}")
        if answer.status_code != 429:
            answer.raise_for_status()
            view: dict[str, Any] = answer.json()
            return view
        time.sleep(int(answer.headers.get("Retry-After", "1")))


def _settle(client: httpx.Client, ids: list[str], promoted_from: str | None = None) -> None:
    """Wait until every referral has its answers and the waiting line reads 1, 2, ..."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        views = [_view(client, i) for i in ids]
        coordinating = [v for v in views if v["status"] in ("received", "coordinating")]
        shelter = [v["services"].get("shelter", {}) for v in views]
        line = sorted(
            s["detail"].get("waitlist_position", 0) for s in shelter if s.get("status") == "on-hold"
        )
        settled = line == list(range(1, len(line) + 1))
        if not coordinating and settled and (promoted_from is None or len(line) <= 1):
            return
        time.sleep(0.1)


def _print_table(client: httpx.Client, ids: dict[str, str]) -> None:
    """One block per referral: its status, then a line per kind of help with the answer."""
    labels = {case.reference: case.label for case in samples()}
    references = {referral_id: reference for reference, referral_id in ids.items()}
    linked = []
    for reference, referral_id in ids.items():
        view = _view(client, referral_id)
        print()
        output.show(f"{reference}  {labels[reference]}: {view['status']}")
        # The answers' details (a facility, a reason) come from the providers, over the bus.
        for name in ALL:
            output.show(f"  {name.replace('_', ' '):<{WIDTH}}{_cell(view['services'].get(name))}")
        for flag in view.get("flags", []):
            if flag["kind"] == "possible_duplicate":
                linked.append((reference, references.get(flag["related_referral_id"], "?")))
    print()
    for reference, open_case in linked:
        print(f"{reference} is the person of {open_case}, whose case is open: linked to it, "
              "flagged, coordinated once.")  # fmt: skip


def _print_beds(shelter_url: str) -> None:
    """What a shelter's case workers see with their own key (the agency's means nothing there)."""
    from korpu import org_keys

    _, api_key = org_keys.create_organization("shelter", "Demo shelter case workers")
    anonymous = httpx.get(f"{shelter_url}/v1/facilities").status_code
    print()
    print(f"Beds, as a shelter's case workers read them with their key (without one: {anonymous}):")
    headers = {"Authorization": f"Bearer {api_key}"}
    for facility in httpx.get(f"{shelter_url}/v1/facilities", headers=headers).json():
        print(f"  {facility['name']:<52} {facility['occupied']} of {facility['beds']} taken")


def _cell(answer: dict[str, Any] | None) -> str:
    if answer is None:
        return "-"
    detail = answer.get("detail") or {}
    if answer["status"] == "accepted" and detail:
        # What was given comes first in every provider's detail: a facility, a
        # program, a lawyer, a counsellor, a clinic, a fund.
        given = str(next(iter(detail.values())))
        when = f" on {detail['appointment']}" if "appointment" in detail else ""
        paid = f", {detail['amount']} {detail['currency']}" if "amount" in detail else ""
        extra = " +interpreter" if detail.get("interpreter_needed") else ""
        moved = f" ({detail.get('region')}, out of region)" if detail.get("out_of_region") else ""
        return f"accepted: {given}{moved}{when}{paid}{extra}"
    if answer["status"] == "on-hold":
        return f"on-hold (#{detail.get('waitlist_position', '?')})"
    reason = answer.get("reason")
    return f"{answer['status']}" + (f" ({reason})" if reason else "")
