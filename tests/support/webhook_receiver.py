"""An agency's webhook receiver on loopback: records every request, answers as scripted,
and verifies signatures with the Standard Webhooks algorithm written out here."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any


@dataclasses.dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


@dataclasses.dataclass
class Receiver:
    url: str
    received: list[Received] = dataclasses.field(default_factory=list)
    # Answers for the coming requests, in order: (status, headers); then 204 for each.
    script: list[tuple[int, dict[str, str]]] = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def of_referral(self, referral_id: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.payload["data"]["referral_id"] == referral_id]


def verify(secret: str, received: Received, tolerance_seconds: int = 300) -> bool:
    """The standard's verification: any `v1,` signature in the header matching the HMAC-SHA256,
    keyed with the base64-decoded secret after `whsec_`, of `id.timestamp.body`; and a
    timestamp within the tolerance, so a captured request cannot be replayed later."""
    message_id = received.headers["webhook-id"]
    timestamp = received.headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + received.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in received.headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@contextlib.contextmanager
def running() -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 on a free port, for the duration."""
    receiver = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            with receiver.lock:
                receiver.received.append(Received(time.monotonic(), headers, body))
                status, extra = receiver.script.pop(0) if receiver.script else (204, {})
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/korpu/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
