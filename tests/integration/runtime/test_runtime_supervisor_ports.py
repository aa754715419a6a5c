"""The supervisor's ports: chosen distinct; a service is ready only when it answers as itself."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from korpu import catalog
from korpu.embedded_redis import free_ports
from korpu.supervisor import ServiceProcess, Stack


class _Shelter(BaseHTTPRequestHandler):
    """Another process that got to the port first: a shelter, ready."""

    def do_GET(self) -> None:
        body = json.dumps({"status": "ready", "service": "shelter", "checks": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def shelter_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shelter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_every_service_gets_a_port_of_its_own() -> None:
    for _ in range(20):
        ports = free_ports(catalog.SERVICES)
        assert sorted(ports) == sorted(catalog.SERVICES)
        assert len(set(ports.values())) == len(ports)


def test_a_service_is_ready_only_when_the_answer_on_its_port_is_its_own(
    shelter_port: int, tmp_path: Path
) -> None:
    referral = ServiceProcess("referral", {}, shelter_port, tmp_path)
    shelter = ServiceProcess("shelter", {}, shelter_port, tmp_path)
    assert not referral.ready()
    assert shelter.ready()


def test_replicas_get_ports_of_their_own_none_another_instance_has(tmp_path: Path) -> None:
    for _ in range(20):
        given = free_ports(catalog.PROCESSES)
        replicas = dict.fromkeys(catalog.PROVIDERS, 3)
        stack = Stack(tmp_path, redis_url="redis://127.0.0.1:1/0", ports=given, replicas=replicas)
        ports = stack._ports()
        assert len(ports) == len(catalog.PROCESSES) + 2 * len(catalog.PROVIDERS)
        assert len(set(ports.values())) == len(ports)
        assert {name: ports[name] for name in catalog.PROCESSES} == given
