"""The OpenAPI document lists the regions an agency may name: the gazetteer's codes and names.

Added to the served document rather than to the contract's JSON Schema: the
event schemas of the intake command are versioned and judged for compatibility,
and the list is the deployment's data (`KORPU_REGIONS`), not the contract's.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from korpu_contracts import regions

DESCRIPTION = (
    "The region where help is needed: an ISO 3166-2 code or a name the gazetteer lists "
    "(Azerbaijani, English or Russian; case, accents and the passport's spellings do not "
    "matter). Stored and answered as the code: Bakı, Baku, Баку and AZ-BA are one region. "
    "Anything else is a 422 naming `region`."
)


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document["components"]["schemas"]
            region = schemas["ReferralRequest"]["properties"]["region"]
            region["description"] = DESCRIPTION
            region["enum"] = regions.current().spellings()
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
