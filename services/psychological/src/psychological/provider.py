"""Psychological help as a provider of the kit (korpu_provider): counsellors, chosen by
`domain.assignment`."""

from __future__ import annotations

from pydantic import TypeAdapter

from korpu_contracts.vocabulary import Service
from korpu_provider.caseloads import CaseworkerEntry
from korpu_provider.caseworker_provider import CaseworkerProvider
from korpu_provider.tasks import Tasks
from psychological.adapters import counsellors, tables
from psychological.domain import assignment, model


class CounsellorEntry(CaseworkerEntry):
    """One counsellor as written in the seed file's `counsellors` list."""

    # Not stated: adults only, so that a child is never given a counsellor by omission.
    children: bool = False


class Psychological(CaseworkerProvider[model.Counsellor, CounsellorEntry]):
    """Counsellors giving psychological assistance (CoE art. 12) in their regions, up to a
    caseload cap; children only with counsellors for children.

    Everything but the rules (`serves`, `decide`) is the kit's, shared with every
    provider of caseworkers (`korpu_provider.caseworker_provider`).
    """

    service = Service.PSYCHOLOGICAL
    schema = tables.schema
    tasks = Tasks(
        tables.tasks, holds="counsellor_id", tombstone={"languages": [], "is_child": False}
    )
    directory_route = "counsellors"
    entries = TypeAdapter(list[CounsellorEntry])
    roster = counsellors.directory
    role = "counsellor"
    decide = staticmethod(assignment.decide)

    def serves(self, entry: model.Counsellor, request: model.CaseRequest) -> bool:
        return model.serves(entry, request)
