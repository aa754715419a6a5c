"""When two referrals are the same person: a name and birth date written the same way.

Agencies spell one Azerbaijani name several ways: with its own letters
(Məmmədova, Şəkili), transliterated (Shekili), in capitals, with stray spaces.
Folding makes those the same text; the blind index (adapters/sealing.py) is
taken over that text, so matching never needs a name in clear.

No birth date, no match. A name with an age estimate is not enough: the most
common names are shared by many people of about the same age, and estimates
are years apart. A false match links a second person to someone else's case
and leaves them without help; a missed one costs a second coordination that a
case worker can still withdraw. Rejected: name plus age estimate.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

# Azerbaijani letters as they are transliterated in Latin without them (and how
# agencies' systems without the letters write them). İ is here because casefold
# turns it into i with a combining dot.
AZERBAIJANI = str.maketrans(
    {
        "ə": "e", "Ə": "e",
        "ı": "i", "I": "i", "İ": "i",
        "ş": "sh", "Ş": "sh",
        "ç": "ch", "Ç": "ch",
        "ğ": "gh", "Ğ": "gh",
        "ö": "o", "Ö": "o",
        "ü": "u", "Ü": "u",
    }
)  # fmt: skip


def fold(name: str) -> str:
    """The name as compared: Azerbaijani letters folded, case folded, accents stripped."""
    folded = name.translate(AZERBAIJANI).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.split())


def identity(given_name: str, family_name: str, date_of_birth: dt.date | None) -> str | None:
    """The text whose blind index matches a person; None when no match is safe."""
    if date_of_birth is None:
        return None
    given, family = fold(given_name), fold(family_name)
    if not given or not family:
        return None
    # A separator no name can hold, so "Ali Vali"+"Ahmadov" differs from "Ali"+"Vali Ahmadov".
    return "\x1f".join((given, family, date_of_birth.isoformat()))
