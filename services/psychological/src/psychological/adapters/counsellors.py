"""The counsellor directory in SQL (the kit's `caseloads`), its statements built once at import."""

from __future__ import annotations

from korpu_provider import caseloads
from psychological.adapters import tables
from psychological.domain import model

directory = caseloads.Caseloads(tables.counsellors, model.Counsellor)
