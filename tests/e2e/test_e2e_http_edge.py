"""A stranger's huge body or oversized head, sent to each running service, is refused at no cost."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from korpu import catalog
from korpu.supervisor import Stack
from korpu_runtime import problems
from support.stack import running_stack

pytestmark = pytest.mark.slow

SIXTY_MB = 60 * 1024 * 1024
CHUNK = 64 * 1024
# Far below the 60 MB sent, far above what reading one more chunk or answering costs.
FEW_MB = 8 * 1024 * 1024
BODY_ROUTES = {
    "referral": "/v1/referrals",
    # Every provider's, from the list of services: a task's completion.
    **dict.fromkeys(catalog.PROVIDERS, "/v1/tasks/t-1/complete"),
}


@pytest.fixture(scope="module")
def stack(spare_redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir: Path = tmp_path_factory.mktemp("e2e-edge")
    with running_stack(data_dir, spare_redis_url, {}) as (running, _):
        yield running


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def _sixty_mb() -> Iterator[bytes]:
    chunk = b"x" * CHUNK
    for _ in range(SIXTY_MB // CHUNK):
        yield chunk


@pytest.mark.parametrize("service", catalog.SERVICES)
def test_a_60_mb_chunked_body_without_credentials_is_refused_at_no_cost(
    stack: Stack, service: str
) -> None:
    process = stack.processes[service]
    assert process.process is not None
    before = _peak_rss(process.process.pid)
    answer: httpx.Response | None = None
    # Rejected: the service's 413 and its closing the connection can arrive while
    # the rest of the body is still being written; either way nothing more is read.
    with contextlib.suppress(httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        answer = httpx.post(f"{process.url}{BODY_ROUTES[service]}", content=_sixty_mb(), timeout=30)
    grown = _peak_rss(process.process.pid) - before
    assert grown < FEW_MB, f"{service}'s peak memory grew by {grown / 2**20:.1f} MB"
    assert answer is None or answer.status_code == 413, answer.text
    assert httpx.get(f"{process.url}/health/live", timeout=5).status_code == 200


@pytest.mark.parametrize("service", catalog.SERVICES)
def test_each_running_service_refuses_an_oversized_request_head_as_a_problem(
    stack: Stack, service: str
) -> None:
    """`korpu serve` runs uvicorn with the runtime's guarded protocol (the head's limits)."""
    process = stack.processes[service]
    host, port = process.url.removeprefix("http://").split(":")
    head = b"GET /health/live HTTP/1.1\r\nHost: korpu\r\nX-Pad: " + b"a" * 9 * 1024 + b"\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=20) as connection:
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"431", answer[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["type"] == problems.HEADERS_TOO_LARGE.type
    assert httpx.get(f"{process.url}/health/live", timeout=5).status_code == 200
