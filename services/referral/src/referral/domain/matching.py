"""When two referrals are the same person: a name and birth date that read the same.

Agencies spell one Azerbaijani name several ways: with its own letters
(Məmmədova, Şəkili), transliterated (Shekili), in capitals, with stray spaces.
Folding makes those the same text; the blind index (adapters/sealing.py) is
taken over that text, so matching never needs a name in clear.

A name must also not escape its match by how it is written rather than what it
says: characters that show nothing (zero-width spaces and joiners, bidi
controls, variation selectors: `korpu_contracts.names`), marks stacked on a
letter, compatibility forms (fullwidth, mathematical letters) and Cyrillic or
Greek letters drawn like Latin ones (Cyrillic а in "Аysel") all fold away.
The last is a confusables skeleton after Unicode UTS #39, kept to the letters
of the two scripts that reach the system beside Latin, in a table here.
Rejected: a confusables library (confusable_homoglyphs, disarm): the blind index
of every stored person is taken over this text, so the mapping must change only
when we change it and re-index (`INDEX_VERSION`), never because a dependency
picked up a new Unicode release; and UTS #39's full skeleton is case-sensitive
(Н is H, н is not), which would split names that case folding joins today.

Version 3 reads the spellings a registry receives most often as one: the
passport's transliteration and Russian Cyrillic (Məmmədova = Mammadova =
Мамедова, Quliyev = Guliyev), by `korpu_contracts.names.romanised` and
`spelling_key`. For names in Latin letters `fold` is the older folding followed
by the new steps, so two that matched before still match: the re-index
(adapters/match_index.py) only joins more. A word wholly in Cyrillic is now read
as Russian (Мамедова as mamedova) rather than letter by look-alike letter; a
Cyrillic letter inside a Latin word is still a look-alike.

No birth date, no match. A name with an age estimate is not enough: the most
common names are shared by many people of about the same age, and estimates
are years apart. A false match links a second person to someone else's case
and leaves them without help; a missed one costs a second coordination that a
case worker can still withdraw. Rejected: name plus age estimate.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable

from korpu_contracts import names

# Raised whenever `fold` or `identity` changes what they return for any name:
# stored blind indexes are then re-computed (entrypoints/match_reindex.py). 1
# folded Azerbaijani letters, case, accents and spaces; 2 adds invisible
# characters, enclosing marks, compatibility capitals and look-alike letters,
# and a name with no letter left matches no one; 3 adds the passport's and
# Russian spellings (`names.spelling_key`, `names.romanised`).
INDEX_VERSION = 3

# Cyrillic and Greek letters, as case folding leaves them, that are drawn like a
# Latin letter in either case (from UTS #39 confusables.txt: Cyrillic н is
# small-capital H and its capital is H, so н is h). Greek η and ν look like n
# and v, their capitals like H and N: the small letters win, as names are
# mostly written in small letters; υ is like no Latin letter, its capital is Y.
# Cyrillic ә is Azerbaijani's ə, folded as it. A transliteration of whole
# Cyrillic names (Мамедова as Mamedova), when one is added, runs before this.
LOOK_ALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "г": "r", "ԁ": "d", "е": "e", "һ": "h", "н": "h",
        "і": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p",
        "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ү": "y", "х": "x", "ԝ": "w",
        "ь": "b", "ә": "e",
        # Greek
        "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i",
        "κ": "k", "μ": "m", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x", "ϲ": "c",
        "ϳ": "j",
        # Latin letters drawn like the plain ones
        "ɑ": "a", "ɡ": "g", "ɩ": "i", "ȷ": "j", "ʏ": "y",
    }
)  # fmt: skip


def fold(name: str) -> str:
    """The name as compared: written differences, look-alike letters and spellings folded away."""
    # `names.plain` is the folding of INDEX_VERSION 1, kept whole so `fold` never splits a match.
    return names.spelling_key(_unseen(names.plain(names.romanised(name))))


def _unseen(text: str) -> str:
    # What version 1 let through: invisible characters (variation selectors and
    # the grapheme joiner among them: marks of combining class 0, kept by it);
    # enclosing marks (a circle or a keycap drawn around a letter); capitals
    # that compatibility decomposition made (ℌ is H); look-alike letters. Other
    # marks of class 0 stay: Devanagari's or Thai's vowel signs are the name.
    # NFKD (the compatibility mapping NFKC applies, without composing again)
    # was applied already.
    kept = "".join(
        char for char in text if not names.invisible(char) and unicodedata.category(char) != "Me"
    )
    folded = kept.casefold().translate(LOOK_ALIKES).translate(names.AZERBAIJANI).casefold()
    return " ".join(folded.split())


def identity(given_name: str, family_name: str, date_of_birth: dt.date | None) -> str | None:
    """The text whose blind index matches a person; None when no match is safe."""
    return _identity(fold, given_name, family_name, date_of_birth)


def identities_before(
    given_name: str, family_name: str, date_of_birth: dt.date | None
) -> list[str]:
    """The texts the earlier versions indexed the person by (2, then 1), when they differ.

    Matched too while the stored indexes are being computed again after an
    upgrade (adapters/match_index.py), so a person referred again in those
    first seconds is still found under the index their first referral got.
    """
    found = [_identity(older, given_name, family_name, date_of_birth) for older in _BEFORE]
    current = identity(given_name, family_name, date_of_birth)
    return [text for text in dict.fromkeys(found) if text is not None and text != current]


def _fold_v2(name: str) -> str:
    return _unseen(names.plain(name))


# The folding of each earlier INDEX_VERSION, newest first.
_BEFORE: tuple[Callable[[str], str], ...] = (_fold_v2, names.plain)


def _identity(
    folding: Callable[[str], str], given_name: str, family_name: str, born: dt.date | None
) -> str | None:
    if born is None:
        return None
    given, family = folding(given_name), folding(family_name)
    if not _has_letter(given) or not _has_letter(family):
        return None
    # A separator no name can hold, so "Ali Vali"+"Ahmadov" differs from "Ali"+"Vali Ahmadov".
    return "\x1f".join((given, family, born.isoformat()))


def _has_letter(folded: str) -> bool:
    return any(unicodedata.category(char).startswith("L") for char in folded)
