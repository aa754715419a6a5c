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
