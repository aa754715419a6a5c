"""The console in Azerbaijani, English and Russian: gettext catalogs, one language per request.

The catalogs are `locales/<language>/LC_MESSAGES/console.po`, read with Babel when the
console starts (rejected: compiled `.mo` files in the repository, binaries that drift
from their sources). `scripts/translations` extracts every string of the templates and
of this package into `locales/console.pot` and updates the catalogs; a test refuses a
string left untranslated in any language.

Each person picks a language (kept with their account; before sign-in, a cookie, else
what the browser asks for, else English). Templates call `_()` and `ngettext()`; Python
code marks its messages with `N_()` (`N_plural()`) and hands them to a page as a `Said`,
translated where it is shown (`say()`).
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import gettext as gnu
import io
from collections.abc import Mapping
from pathlib import Path

import markupsafe
from babel.messages import mofile, pofile
from jinja2 import Environment

LANGUAGES = {"az": "Azərbaycanca", "en": "English", "ru": "Русский"}
DEFAULT = "en"
COOKIE = "korpu_console_language"
LOCALES = Path(__file__).parent / "locales"
DOMAIN = "console"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


def N_(message: str) -> str:
    """A message marked for the catalogs, translated where it is shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """A message whose form a count decides (`num`), marked for the catalogs."""
    return singular, plural


@dataclasses.dataclass(frozen=True)
class Said:
    """A message for a page: its msgid and the values it names, translated when shown.

    Rejected: sentences made in English by the code and shown as they are, which no
    catalog could reach.
    """

    message: str
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)
    plural: str | None = None  # then `params["num"]` picks the form

    @classmethod
    def counted(cls, forms: tuple[str, str], num: int, **params: object) -> Said:
        return cls(forms[0], {"num": num, **params}, forms[1])


def say(said: Said) -> markupsafe.Markup:
    """`said` in the request's language, its values escaped."""
    if said.plural is None:
        text = gettext(said.message)
    else:
        count = said.params["num"]
        text = ngettext(said.message, said.plural, count if isinstance(count, int) else 0)
    return markupsafe.escape(text) % dict(said.params)


@functools.cache
def catalog(language: str) -> gnu.NullTranslations:
    """The language's translations, from its .po file (English: the messages themselves)."""
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not path.exists():
        return gnu.NullTranslations()
    with path.open("rb") as source:
        messages = pofile.read_po(source, locale=language)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, messages)
    compiled.seek(0)
    return gnu.GNUTranslations(compiled)


def use(language: str) -> None:
    """Translate what this request shows into `language`."""
    _language.set(language if language in LANGUAGES else DEFAULT)


def current() -> str:
    return _language.get()


def gettext(message: str) -> str:
    return catalog(current()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return catalog(current()).ngettext(singular, plural, count)


def install(environment: Environment) -> None:
    environment.add_extension("jinja2.ext.i18n")
    # newstyle: `_("%(n)s letters", n=3)` formats after translating, and escapes.
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )
    environment.globals["say"] = say


# TRANSLATORS: a span of time, shortest: 3s, 4m, 2h, 6d.
AGE_UNITS = (
    (86400, N_("%(n)sd")),
    (3600, N_("%(n)sh")),
    (60, N_("%(n)sm")),
)
SECONDS = N_("%(n)ss")


def age(seconds: float) -> str:
    """3s, 4m, 2h, 6d (korpu.dlq.age) in the request's language."""
    for size, unit in AGE_UNITS:
        if seconds >= size:
            return gettext(unit) % {"n": int(seconds // size)}
    return gettext(SECONDS) % {"n": f"{max(seconds, 0):.0f}"}


def best(accept_language: str | None) -> str:
    """The first language the browser asks for that the console speaks."""
    for part in (accept_language or "").split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT
