"""The gazetteer: one code per region however it is written, from data that can be replaced."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pydantic
import pytest

from korpu_contracts import intake, regions, registry
from korpu_contracts.envelope import Envelope
from korpu_contracts.referral import TaskRequested, TaskRequestedV1

REPOSITORY = Path(__file__).resolve().parents[2]
AZ = REPOSITORY / "deploy" / "regions" / "az.json"


@pytest.mark.parametrize(
    ("code", "spellings"),
    [
        ("AZ-BA", ["Bakı", "Baku", "Баку", "AZ-BA", "az-ba", "BAKI", " baku "]),
        ("AZ-GA", ["Gəncə", "Ganja", "Gandja", "Гянджа", "GƏNCƏ"]),
        ("AZ-SA", ["Şəki", "Shaki", "Sheki", "Шеки"]),
        ("AZ-LA", ["Lənkəran", "Lankaran", "Lenkoran", "Ленкорань"]),
        ("AZ-SM", ["Sumqayıt", "Sumgait", "Sumqayit", "Сумгаит"]),
        ("AZ-MI", ["Mingəçevir", "Mingachevir", "Мингечевир"]),
        ("AZ-NV", ["Naxçıvan", "Nakhchivan", "Nakhichevan", "Нахичевань"]),
        ("AZ-QBA", ["Quba", "Guba", "Губа"]),
        ("AZ-SAK", ["Şəki rayonu", "Shaki District", "Шекинский район"]),
        ("AZ-NX", ["Naxçıvan Muxtar Respublikası", "Nakhchivan Autonomous Republic"]),
    ],
)
def test_azerbaijani_english_and_russian_names_are_one_region(
    code: str, spellings: list[str]
) -> None:
    gazetteer = regions.load(AZ)
    assert {gazetteer.code(spelling) for spelling in spellings} == {code}


def test_the_shipped_gazetteer_is_iso_3166_2_az_with_a_name_in_three_languages() -> None:
    gazetteer = regions.load(AZ)
    assert gazetteer.country == "AZ"
    # 11 cities, 66 districts and the autonomous republic (ISO 3166-2:AZ).
    assert len(gazetteer.regions) == 78
    assert all(re.fullmatch(r"AZ-[A-Z]{2,3}", code) for code in gazetteer.regions)
    for region in gazetteer.regions.values():
        assert region.names.get("az") and region.names.get("ru"), region.code
    # What the package uses by default is this file.
    assert regions.load(regions.DEFAULT).regions == gazetteer.regions


@pytest.mark.parametrize("name", ["Atlantis", "Tbilisi", "", "AZ-XX", "Bak"])
def test_a_name_no_region_has_is_unknown(name: str) -> None:
    assert regions.load(AZ).code(name) is None


def test_another_countrys_gazetteer_replaces_it_by_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    georgia = tmp_path / "ge.json"
    georgia.write_text(
        json.dumps(
            {
                "country": "GE",
                "regions": [
                    {
                        "code": "GE-TB",
                        "name": "Tbilisi",
                        "names": {"ka": ["თბილისი"], "ru": ["Тбилиси"]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv(regions.ENV, str(georgia))

    assert regions.code_of("Тбилиси") == "GE-TB"
    with pytest.raises(regions.UnknownRegion):
        regions.code_of("Baku")


def test_a_gazetteer_naming_two_regions_one_way_is_refused(tmp_path: Path) -> None:
    clash = {
        "country": "AZ",
        "regions": [
            {"code": "AZ-SA", "name": "Şəki", "names": {}},
            {"code": "AZ-SAK", "name": "Sheki", "names": {}},
        ],
    }
    with pytest.raises(regions.InvalidGazetteer, match="names both AZ-SA and AZ-SAK"):
        regions.parse(clash)
    with pytest.raises(regions.InvalidGazetteer):
        regions.parse({"regions": []})


def _referral(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "agency_reference": "R-1",
        "person": {"given_name": "Aysel", "family_name": "Məmmədova", "sex": "female",
                   "age_estimate": 30},
        "region": "Bakı",
        "needs": ["shelter"],
    }  # fmt: skip
    body.update(changes)
    return body


def test_a_referral_carries_the_code_and_an_unknown_region_is_refused_naming_it() -> None:
    assert intake.ReferralRequest.model_validate(_referral(region="Гянджа")).region == "AZ-GA"
    with pytest.raises(pydantic.ValidationError) as refused:
        intake.ReferralRequest.model_validate(_referral(region="Atlantis"))
    assert [error["loc"] for error in refused.value.errors()] == [("region",)]


def test_with_no_age_possibly_minor_is_required_and_beside_an_age_it_defaults_to_no() -> None:
    no_age = {"given_name": "A", "family_name": "B", "sex": "male"}
    with pytest.raises(pydantic.ValidationError) as refused:
        intake.Person.model_validate(no_age)
    assert [error["loc"] for error in refused.value.errors()] == [("possibly_minor",)]
    assert intake.Person.model_validate({**no_age, "possibly_minor": False}).possibly_minor is False
    assert intake.Person.model_validate({**no_age, "age_estimate": 30}).possibly_minor is False
    # An invalid birth date is told once, as itself, not as a missing presumption too.
    with pytest.raises(pydantic.ValidationError) as bad_date:
        intake.Person.model_validate({**no_age, "date_of_birth": "yesterday"})
    assert [error["loc"] for error in bad_date.value.errors()] == [("date_of_birth",)]


def test_a_task_request_of_version_1_is_read_with_its_region_as_the_code() -> None:
    old = TaskRequestedV1(
        task_id="t-1", referral_id="r-1", service="shelter", region="Ganja", is_child=False,
        sex="male",
    )  # fmt: skip
    envelope = Envelope.wrap(old, source="korpu/referral", subject="r-1")

    read = registry.read(envelope, TaskRequested)

    assert (read.VERSION, read.region) == (2, "AZ-GA")
    unknown = Envelope.wrap(old.model_copy(update={"region": "Atlantis"}), source="x", subject="r")
    assert registry.read(unknown, TaskRequested).region == "Atlantis"  # kept, never guessed
