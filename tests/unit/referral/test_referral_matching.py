"""Two ways of writing one Azerbaijani name are one person; a different name is not."""

from __future__ import annotations

import datetime as dt

import pytest

from referral.domain import matching

BORN = dt.date(2001, 4, 12)


@pytest.mark.parametrize(
    ("written", "transliterated"),
    [
        pytest.param("Şəkili", "Shekili", id="sh-and-schwa"),
        pytest.param("Gülnarə", "Gulnare", id="u-umlaut"),
        pytest.param("Çingiz Ağayev", "Chingiz Aghayev", id="ch-and-gh"),
        pytest.param("Göyçə", "Goyche", id="o-umlaut"),
        pytest.param("Qırxqızlı", "Qirxqizli", id="dotless-i"),
        pytest.param("İLHAM", "ilham", id="dotted-capital-i"),
        pytest.param("ŞƏKİLİ", "shekili", id="capitals"),
        pytest.param("  Aysel \t  Nur ", "aysel nur", id="spaces"),
        pytest.param("José", "Jose", id="accent"),
    ],
)
def test_a_name_and_its_transliteration_fold_to_one(written: str, transliterated: str) -> None:
    assert matching.fold(written) == matching.fold(transliterated)


def test_a_schwa_is_an_e_so_mammadova_is_another_spelling_altogether() -> None:
    assert matching.fold("Məmmədova") == "memmedova" == matching.fold("MEMMEDOVA")
    assert matching.fold("Məmmədova") != matching.fold("Mammadova")


def test_without_a_birth_date_no_one_is_matched() -> None:
    assert matching.identity("Aysel", "Məmmədova", None) is None
    assert matching.identity("Aysel", "Məmmədova", BORN) == matching.identity(
        "AYSEL", "Memmedova", BORN
    )
    assert matching.identity("Aysel", "Məmmədova", BORN) != matching.identity(
        "Aysel", "Məmmədova", dt.date(2001, 4, 13)
    )


def test_given_and_family_name_are_kept_apart() -> None:
    assert matching.identity("Ali Vali", "Ahmadov", BORN) != matching.identity(
        "Ali", "Vali Ahmadov", BORN
    )


def test_the_text_indexed_never_changes_or_stored_referrals_stop_matching() -> None:
    # The blind index of every stored referral was taken over exactly this text: a
    # change in how it is written (spaces, separator) would match no one stored before.
    assert matching.fold("  Aysel \t  Nur ") == "aysel nur"
    assert matching.identity("Aysel", "Məmmədova", BORN) == "aysel\x1fmemmedova\x1f2001-04-12"


@pytest.mark.parametrize(
    ("given", "family"),
    [("", "Məmmədova"), ("Aysel", "  "), ("\u0301", "Məmmədova")],
    ids=["no-given-name", "blank-family-name", "only-an-accent"],
)
def test_a_person_with_a_name_missing_matches_no_one(given: str, family: str) -> None:
    assert matching.identity(given, family, BORN) is None
