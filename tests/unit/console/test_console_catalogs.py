"""Every message the console shows has its place in each language's catalog, translated.

The messages are extracted as `scripts/translations` extracts them (babel.cfg, the
`N_` and `N_plural` markers), so a string added to a template or marked in Python and
not yet in the catalogs fails here, and so does one left empty, fuzzy or stale.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from babel.messages import catalog, extract, frontend, pofile

from korpu.console import i18n

REPOSITORY = Path(__file__).resolve().parents[3]
KEYWORDS = {**extract.DEFAULT_KEYWORDS, "N_": None, "N_plural": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TRANSLATED = ["az", "ru"]


@functools.cache
def extracted() -> frozenset[str | tuple[str, ...]]:
    with (REPOSITORY / "babel.cfg").open() as config:
        method_map, options_map = frontend.parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found = extract.extract_from_dir(
        str(REPOSITORY), method_map, options_map, keywords=KEYWORDS, comment_tags=()
    )
    return frozenset(_key(message) for _file, _line, message, _comments, _context in found)


def read(language: str) -> catalog.Catalog:
    path = i18n.LOCALES / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as source:
        return pofile.read_po(source, locale=language)


def messages(found: catalog.Catalog) -> list[catalog.Message]:
    return [message for message in found if message.id]


def test_the_console_has_messages_to_translate() -> None:
    assert len(extracted()) > 100
    assert "Dead letters" in extracted()
    assert ("Replayed %(num)s dead letter.", "Replayed %(num)s dead letters.") in extracted()


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_each_catalog_holds_every_message_and_no_other(language: str) -> None:
    found = read(language)
    ids = {_key(message.id) for message in messages(found)}
    assert sorted(map(str, extracted() - ids)) == [], "run scripts/translations"
    assert sorted(map(str, ids - extracted())) == [], "stale messages: run scripts/translations"
    assert not found.obsolete
    assert [m.id for m in messages(found) if m.fuzzy] == [], "fuzzy: check each translation"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_in_every_form(language: str) -> None:
    found = read(language)
    forms = found.num_plurals
    for message in messages(found):
        strings = _strings(message)
        assert all(strings), f"{language}: {message.id!r} untranslated"
        if message.pluralizable:
            assert len(strings) == forms, f"{language}: {message.id!r} needs {forms} forms"


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_names_the_values_its_message_names(language: str) -> None:
    for message in messages(read(language)):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        wanted = set().union(*(PLACEHOLDER.findall(text) for text in ids))
        for text in _strings(message):
            assert set(PLACEHOLDER.findall(text)) == wanted, f"{language}: {text!r}"
            # A lone % would break the formatting that follows the translation.
            assert "%" not in PLACEHOLDER.sub("", text), f"{language}: {text!r}"


def test_english_is_the_messages_themselves() -> None:
    """The English catalog lists every message with an empty translation: English text
    is changed in the code, where it is written (a translation here would be ignored)."""
    assert [m.id for m in messages(read("en")) if any(_strings(m))] == []


def _strings(message: catalog.Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string or ())


def _key(message: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    """A message's id: its text, or (singular, plural)."""
    return message if isinstance(message, str) else tuple(message)
