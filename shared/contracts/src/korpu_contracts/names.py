"""What of a name is seen: the characters that show nothing, and the rule of a visible letter.

Unicode lists the code points a renderer shows nothing for when it cannot draw
them (Default_Ignorable_Code_Point, DerivedCoreProperties.txt): zero-width
spaces and joiners, bidi controls, variation selectors, tag characters, the
Hangul fillers. Every format character (category Cf) is one of them or as
invisible. A name made of them, or of marks and emoji without a letter, reads
as nothing on a case worker's screen, and a name padded with them reads as
another name that a computer compares as different: the duplicate check
(referral service, domain/matching.py) strips them before comparing, and the
intake refuses a name without a visible letter. Stdlib only: agencies validate
with this package before they send.
"""

from __future__ import annotations

import re
import unicodedata

# Default_Ignorable_Code_Point, Unicode 15.1, as ranges. Stable in practice: the
# property is meant for renderers, and code points are only ever added to it
# from unassigned ones.
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def invisible(character: str) -> bool:
    """A character that shows nothing: default-ignorable, or a format character (Cf)."""
    point = ord(character)
    if unicodedata.category(character) == "Cf":
        return True
    return any(low <= point <= high for low, high in _IGNORABLE_RANGES)


def has_visible_letter(text: str) -> bool:
    """At least one letter (category L*) that is drawn: not a Hangul filler."""
    return any(
        unicodedata.category(character).startswith("L") and not invisible(character)
        for character in text
    )


# How one Azerbaijani name is spelt in the three ways it reaches a registry --------------
#
# Azerbaijani Latin (Məmmədova, Quliyev), the passport's transliteration
# (Mammadova, Guliyev: ə→a, ğ→gh, x→kh, ş→sh, ç→ch, c→j, q→g, ö→o, ü→u, ı→i)
# and Russian Cyrillic (Мамедова, Гулиев), often with a doubled letter written
# once. `spelling_key` brings the first two to one Latin text; `romanised`
# brings the third to the same alphabet first. The keys are for matching only:
# a person's name is always stored as sent.

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


def plain(text: str) -> str:
    """Small letters, Azerbaijani ones as Latin without them, no accents, single spaces."""
    folded = text.translate(AZERBAIJANI).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.split())


def spelling(text: str) -> str:
    """A name (a person's, a place's) as one Latin key, however it was spelt."""
    return spelling_key(plain(romanised(text)))


# Russian Cyrillic, and the letters Azerbaijani Cyrillic added, in the passport's
# Latin. A vowel letter that softens the consonant before it (я, ю, ё) reads as
# the Azerbaijani vowel it stands for there: Гянджа is Gəncə, Гюльнара is
# Gülnarə, Гёйгёль is Göygöl; at the start of a word or after a vowel it is y
# and the vowel (Ялчин, Юсиф). ы is Azerbaijani ı; дж is c (j in the passport).
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ъ": "", "ы": "i", "ь": "", "э": "e",
    "ә": "a", "ғ": "gh", "ҹ": "j", "һ": "h", "ө": "o", "ү": "u", "ј": "y", "ҝ": "g",
    "қ": "g", "і": "i",
}  # fmt: skip
_SOFTENING = {"я": "a", "ю": "u", "ё": "o"}
_IOTATED = {"я": "ya", "ю": "yu", "ё": "yo"}
_CYRILLIC_VOWELS = frozenset("аеёиоуыэюяәөү")


def is_cyrillic(character: str) -> bool:
    return unicodedata.name(character, "").startswith("CYRILLIC")


def romanised(text: str) -> str:
    """Every word written wholly in Cyrillic, in the passport's Latin; other words as they are.

    Only whole words: a Cyrillic letter inside a Latin word is a look-alike
    (Cyrillic а in "Аysel"), which the duplicate check folds as the letter it is
    drawn like, not as the sound it stands for. Rejected: transliterating every
    Cyrillic letter, which would read that а right but its в (drawn like B) as v.
    """
    return " ".join(_romanised_word(word) for word in text.split())


def _romanised_word(word: str) -> str:
    letters = [c for c in unicodedata.normalize("NFC", word) if c.isalpha()]
    if not letters or not all(is_cyrillic(c) for c in letters):
        return word
    small = unicodedata.normalize("NFC", word).casefold().replace("дж", "ҹ")
    out = []
    for index, char in enumerate(small):
        before = small[index - 1] if index else ""
        if char in _SOFTENING:
            softens = before.isalpha() and before not in _CYRILLIC_VOWELS and before not in "ъь"
            out.append(_SOFTENING[char] if softens else _IOTATED[char])
        else:
            out.append(_CYRILLIC.get(char, char))
    return "".join(out)


def spelling_key(folded: str) -> str:
    """One key for an Azerbaijani name however it is spelt in Latin letters.

    `folded` is in small Latin letters, with Azerbaijani ones already written as
    ə→e, ş→sh, ç→ch, ğ→gh, ö→o, ü→u, ı→i (the duplicate check's older folding).
    The passport's remaining letters follow: c→j (not in ch, which was ç), q→g,
    x→kh. Then what the spellings disagree on is folded away: gh and g (Bağırova,
    Bagirova, Багирова), iy before a vowel and i (Quliyev, Гулиев), e and a
    (ə is e to systems without it and a in the passport, and Russian е stands for
    both: Məmmədova, MEMMEDOVA, Mammadova, Мамедова), and a doubled letter (mm).
    The price is that a few different names meet (Aysel and Aysal): the check
    matches only with the same date of birth, and a case worker settles it.
    """
    text = re.sub(r"c(?!h)", "j", folded).replace("q", "g").replace("x", "kh")
    text = text.replace("gh", "g")
    text = re.sub(r"iy(?=[aeiouy])", "i", text).replace("e", "a")
    # Letters only: "Man 11" and "Man 1" are not one name because a digit is doubled.
    return re.sub(r"([^\W\d_])\1+", r"\1", text)
