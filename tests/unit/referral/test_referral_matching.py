"""Two ways of writing one Azerbaijani name are one person; a different name is not."""

from __future__ import annotations

import datetime as dt

import pytest

from korpu_contracts import names
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


@pytest.mark.parametrize(
    ("azerbaijani", "other"),
    [
        pytest.param("Məmmədova", "Mammadova", id="passport"),
        pytest.param("Məmmədova", "MEMMEDOVA", id="schwa-as-e"),
        pytest.param("Məmmədova", "Мамедова", id="russian-doubled-letter-written-once"),
        pytest.param("Məmmədova", "МАММАДОВА", id="russian-capitals"),
        pytest.param("Quliyev", "Guliyev", id="passport-q-is-g"),
        pytest.param("Quliyev", "Гулиев", id="russian-iy-is-i"),
        pytest.param("Cəfərov", "Jafarov", id="passport-c-is-j"),
        pytest.param("Cəfərov", "Джафаров", id="russian-dzh-is-c"),
        pytest.param("Xəlilov", "Khalilov", id="passport-x-is-kh"),
        pytest.param("Xəlilov", "Халилов", id="russian-kh"),
        pytest.param("Bağırova", "Bagirova", id="gh-written-g"),
        pytest.param("Bağırova", "Багирова", id="russian-g"),
        pytest.param("Şükürov", "Shukurov", id="passport-sh-and-u"),
        pytest.param("Çingiz", "Чингиз", id="russian-ch"),
        pytest.param("Gülnarə", "Гюльнара", id="russian-softened-u"),
        pytest.param("Əli", "Ali", id="a-schwa-is-an-a-in-the-passport"),
        pytest.param("Aygün", "Айгюн", id="russian-softened-u-after-a-vowel"),
    ],
)
def test_the_passport_and_russian_spellings_of_a_name_are_one_key(
    azerbaijani: str, other: str
) -> None:
    assert matching.fold(azerbaijani) == matching.fold(other)
    assert matching.identity("Aysel", azerbaijani, BORN) == matching.identity("AYSEL", other, BORN)


def test_e_and_a_are_one_letter_to_the_check_so_some_different_names_meet() -> None:
    # The price of reading Məmmədova, MEMMEDOVA and Мамедова as one: Aysel and
    # Aysal meet too; the same date of birth is still needed (`identity`).
    assert matching.fold("Aysel") == matching.fold("Aysal")
    assert matching.identity("Aysel", "Quliyeva", BORN) != matching.identity(
        "Aysal", "Quliyeva", dt.date(1999, 1, 1)
    )


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
    assert matching.fold("  Aysel \t  Nur ") == "aysal nur"
    assert matching.identity("Aysel", "Məmmədova", BORN) == "aysal\x1fmamadova\x1f2001-04-12"


@pytest.mark.parametrize(
    ("given", "family"),
    [("", "Məmmədova"), ("Aysel", "  "), ("\u0301", "Məmmədova")],
    ids=["no-given-name", "blank-family-name", "only-an-accent"],
)
def test_a_person_with_a_name_missing_matches_no_one(given: str, family: str) -> None:
    assert matching.identity(given, family, BORN) is None


# What a name may carry that shows nothing or looks like another letter ---------------------


@pytest.mark.parametrize(
    ("dodging", "plain"),
    [
        pytest.param("Ay\u200bsel", "Aysel", id="zero-width-space"),
        pytest.param("Ay\u200c\u200dsel", "Aysel", id="zero-width-non-joiner-and-joiner"),
        pytest.param("\u200eAysel\u200f", "Aysel", id="directional-marks"),
        pytest.param("\u2067Aysel\u2069", "Aysel", id="bidi-isolate"),
        pytest.param("\u202eAysel\u202c", "Aysel", id="bidi-override"),
        pytest.param("\u061cAysel", "Aysel", id="arabic-letter-mark"),
        pytest.param("Ays\u00adel", "Aysel", id="soft-hyphen"),
        pytest.param("\ufeffAysel", "Aysel", id="byte-order-mark"),
        pytest.param("Aysel\U000e0041", "Aysel", id="tag-character"),
        pytest.param("Ays\ufe0fel", "Aysel", id="variation-selector"),
        pytest.param("Ay\u034fsel", "Aysel", id="grapheme-joiner"),
        pytest.param("Aysel\u3164", "Aysel", id="hangul-filler"),
        pytest.param("A\u0301\u0301\u0301ysel", "Aysel", id="stacked-marks"),
        pytest.param("A\u20ddysel\u20e3", "Aysel", id="enclosing-marks"),
        pytest.param("Ａｙｓｅｌ", "Aysel", id="fullwidth"),
        pytest.param("𝐀𝐲𝐬𝐞𝐥", "Aysel", id="mathematical-bold"),
        pytest.param("ℌəsənova", "Həsənova", id="letterlike-capital"),
        pytest.param("\u0410ysel", "Aysel", id="cyrillic-capital-a"),
        pytest.param("Ays\u0435l", "Aysel", id="cyrillic-e"),
        pytest.param("\u0410\u0423\u0405\u0415L", "AYSEL", id="cyrillic-capitals"),
        pytest.param("M\u04d9mm\u04d9dova", "Məmmədova", id="cyrillic-schwa"),
        pytest.param("\u039c\u0395\u039c\u039c\u0395D\u039f\u03a5A", "MEMMEDOYA", id="greek"),
        pytest.param("Məmmədov\u0251", "Məmmədova", id="latin-alpha"),
    ],
)
def test_what_shows_nothing_or_looks_the_same_folds_away(dodging: str, plain: str) -> None:
    assert matching.fold(dodging) == matching.fold(plain)
    assert matching.identity("Aysel", dodging, BORN) == matching.identity("Aysel", plain, BORN)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param("Мамедова", "МАМЕДОВА", id="cyrillic-name-in-capitals"),
        pytest.param("Ελένη", "ΕΛΈΝΗ", id="greek-name-in-capitals"),
        pytest.param("Алиева", "алиева", id="cyrillic-name-in-small-letters"),
    ],
)
def test_a_whole_name_in_another_script_still_matches_itself_in_any_case(
    one: str, other: str
) -> None:
    # Case folding comes first and the look-alike table is of small letters, so
    # names that matched by case before still do.
    assert matching.fold(one) == matching.fold(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param("Aysel", "Aynel", id="another-letter"),
        pytest.param("Quliyev", "Quliyeva", id="another-ending"),
        pytest.param("Aysel Nur", "AyselNur", id="a-space-is-not-invisible"),
        pytest.param("Мамедова", "Мамедов", id="a-russian-name-of-another-ending"),
        pytest.param("Person 11", "Person 1", id="a-doubled-digit-is-not-a-doubled-letter"),
        pytest.param("गुप्ता", "गप्ता", id="a-devanagari-vowel-sign-is-part-of-the-name"),
    ],
)
def test_what_is_seen_to_differ_still_differs(one: str, other: str) -> None:
    assert matching.fold(one) != matching.fold(other)


@pytest.mark.parametrize(
    "name",
    ["\u200b", "\u202e\u200f", "\u3164\uffa0", "\u0301", "🌙", "12", "-", ""],
    ids=["zero-width", "bidi", "fillers", "a-mark", "emoji", "digits", "dash", "empty"],
)
def test_a_name_with_no_letter_left_matches_no_one(name: str) -> None:
    assert matching.identity(name, "Məmmədova", BORN) is None
    assert matching.identity("Aysel", name, BORN) is None


@pytest.mark.parametrize(
    "name",
    ["Aysel", "Şəkili Ağayev", "  Aysel \t Nur ", "İLHAM", "José", "Gülnarə", "Qırxqızlı"],
)
def test_names_that_matched_before_still_match_so_the_re_index_only_joins(name: str) -> None:
    # Version 3 is version 2's folding followed by the spelling key, for names in
    # Latin letters: what matched under version 1 (its folding) still matches.
    assert matching.fold(name) == names.spelling_key(names.plain(name))


def test_the_indexes_of_earlier_versions_are_known_for_the_minutes_of_an_upgrade() -> None:
    # What versions 1 and 2 indexed (the same text for a plain name), never the current one.
    assert matching.identities_before("Aysel", "Məmmədova", BORN) == [
        "aysel\x1fmemmedova\x1f2001-04-12"
    ]
    assert matching.identities_before("Ay\u200bsel", "Məmmədova", BORN) == [
        "aysel\x1fmemmedova\x1f2001-04-12",
        "ay\u200bsel\x1fmemmedova\x1f2001-04-12",
    ]
    assert matching.identities_before("Aysel", "Məmmədova", None) == []
