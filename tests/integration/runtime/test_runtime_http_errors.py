"""A failure nobody expected is a 500 problem, and its log line never carries what it was given."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter

from korpu_runtime import errors, http, tables
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings

MARKER = "Aysel Məmmədova +994501234567"
metadata = sa.MetaData()
tables.add_runtime_tables(metadata)


class _Settings(ServiceSettings):
    service: str = "errors-test"


def _failing_router() -> APIRouter:
    router = APIRouter()

    @router.get("/fails")
    async def fails() -> None:
        # As a driver or a library may: the value it choked on, in the exception's text.
        raise RuntimeError(f"could not store {MARKER!r}")

    return router


async def test_an_unexpected_failure_answers_a_500_problem_and_logs_no_personal_data(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    service = Service(_Settings(database_url=database_url), metadata, [])
    app = http.build_app(service, [_failing_router()], title="errors test")
    transport = httpx.ASGITransport(app=app)  # re-raises whatever the app lets escape
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/fails")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == http.PROBLEM_JSON
    assert MARKER not in answer.text
    logged = capsys.readouterr().err
    assert "request_failed" in logged and "RuntimeError" in logged
    assert "Aysel" not in logged and "994501234567" not in logged


def test_a_library_error_is_told_by_its_kind_and_a_connection_error_in_full() -> None:
    try:
        int("Aysel")
    except ValueError as error:
        told = errors.describe(error)
    assert told == "ValueError: (message not shown)"
    refused = ConnectionRefusedError(111, "Connection refused")
    assert errors.describe(refused) == "ConnectionRefusedError: [Errno 111] Connection refused"
