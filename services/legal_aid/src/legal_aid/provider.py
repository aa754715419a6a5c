"""Legal aid as a provider of the kit (korpu_provider): lawyers, chosen by `domain.assignment`."""

from __future__ import annotations

from pydantic import TypeAdapter

from korpu_contracts.vocabulary import Service
from korpu_provider.caseloads import CaseworkerEntry
from korpu_provider.caseworker_provider import CaseworkerProvider
from korpu_provider.tasks import Tasks
from legal_aid.adapters import lawyers, tables
from legal_aid.domain import assignment, model


class LawyerEntry(CaseworkerEntry):
    """One lawyer as written in the seed file's `lawyers` list."""


class LegalAid(CaseworkerProvider[model.Lawyer, LawyerEntry]):
    """Lawyers giving free legal aid (CoE art. 15) in their regions, up to a caseload cap.

    Everything but the decision is the kit's, shared with every provider of caseworkers
    (`korpu_provider.caseworker_provider`).
    """

    service = Service.LEGAL_AID
    schema = tables.schema
    tasks = Tasks(tables.tasks, holds="lawyer_id", tombstone={"languages": [], "is_child": False})
    directory_route = "lawyers"
    entries = TypeAdapter(list[LawyerEntry])
    roster = lawyers.directory
    role = "lawyer"
    decide = staticmethod(assignment.decide)
