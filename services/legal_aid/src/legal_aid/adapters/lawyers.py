"""The lawyer directory in SQL (the kit's `caseloads`), its statements built once at import."""

from __future__ import annotations

from korpu_provider import caseloads
from legal_aid.adapters import tables
from legal_aid.domain import model

directory = caseloads.Caseloads(tables.lawyers, model.Lawyer)
