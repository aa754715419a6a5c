"""A person's name needs a letter that is seen: what agencies' own validation refuses too."""

from __future__ import annotations

import pydantic
import pytest

from korpu_contracts import intake, names


def _person(given_name: str) -> dict[str, object]:
    return {"given_name": given_name, "family_name": "Məmmədova", "sex": "female",
            "age_estimate": 30}  # fmt: skip


@pytest.mark.parametrize(
    "name",
    ["Aysel", "Ə", "Айгюн", "عبد الله", "李", "Aysel 🌙", "\u200fAysel", "X Æ A-12", "ㄱ"],
    ids=[
        "latin",
        "one-letter",
        "cyrillic",
        "arabic",
        "han",
        "with-emoji",
        "with-rlm",
        "with-digits",
        "hangul-jamo",
    ],
)
def test_a_name_with_a_visible_letter_is_taken_as_sent(name: str) -> None:
    assert intake.Person.model_validate(_person(name)).given_name == name.strip()


@pytest.mark.parametrize(
    "name",
    [
        "\u200b",
        "\u200d\u200c",
        "\u202e",
        "\u2066\u2069",
        "\u00ad",
        "\ufeff",
        "\u3164",
        "\uffa0",
        "\u115f",
        "\U000e0061",
        "\ufe0f",
        "\u0301",
        "🌙",
        "👩🏽‍⚕️",
        "123",
        "-.-",
    ],
    ids=[
        "zwsp",
        "zwj-zwnj",
        "rlo",
        "isolates",
        "soft-hyphen",
        "bom",
        "hangul-filler",
        "halfwidth-filler",
        "choseong-filler",
        "tag",
        "variation-selector",
        "mark",
        "emoji",
        "emoji-sequence",
        "digits",
        "punctuation",
    ],
)
def test_a_name_without_a_visible_letter_is_refused_naming_the_field(name: str) -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        intake.Person.model_validate(_person(name))
    [error] = refused.value.errors()
    assert error["loc"] == ("given_name",)


def test_every_format_character_is_invisible() -> None:
    import sys
    import unicodedata

    format_characters = [
        chr(point)
        for point in range(sys.maxunicode + 1)
        if unicodedata.category(chr(point)) == "Cf"
    ]
    assert format_characters and all(names.invisible(c) for c in format_characters)
    assert not any(names.invisible(c) for c in "aƏЖλ ا1 ")
