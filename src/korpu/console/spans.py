"""A time typed into a form (`2h`, `2026-12-07T10:00`), read as `korpu recover` reads it,
and why not in the console's own words (rejected: korpu.recover's English sentences)."""

from __future__ import annotations

import datetime as dt

from korpu import catalog, recover
from korpu.console import i18n

UNREADABLE = i18n.N_(
    "The console cannot read “%(text)s” as a time: use ISO 8601 (2026-11-26T14:30:00Z) "
    "or a span back from now (30m, 2h, 1d)."
)
IN_THE_FUTURE = i18n.N_("“%(text)s” is in the future.")
DATABASE_AWAY = i18n.N_("The database of %(service)s cannot be reached: nothing was done.")
A_DATABASE_AWAY = i18n.N_("A service's database cannot be reached: nothing was done.")
# Any time the console could be asked for is before this: a time that reads against it
# but not against now is in the future.
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class Unreadable(Exception):
    """Not a time in the past: why, to be said on the page."""

    def __init__(self, said: i18n.Said) -> None:
        super().__init__(said.message)
        self.said = said


def since(text: str) -> dt.datetime:
    """`text` as a past time, or Unreadable saying why."""
    try:
        return recover.parse_since(text)
    except (recover.RecoverError, OverflowError):
        pass
    try:
        recover.parse_since(text, now=LATEST)
    except (recover.RecoverError, OverflowError):
        raise Unreadable(i18n.Said(UNREADABLE, {"text": text.strip()})) from None
    raise Unreadable(i18n.Said(IN_THE_FUTURE, {"text": text.strip()}))


def database_away(error: recover.RecoverError) -> i18n.Said:
    """korpu.recover names the service first (`shelter: database unreachable (...)`)."""
    service = str(error).split(":", 1)[0]
    if service in catalog.SERVICES:
        return i18n.Said(DATABASE_AWAY, {"service": service})
    return i18n.Said(A_DATABASE_AWAY)
