"""A real webhook receiver for tests: an ``http.server`` thread that does what a clinic's system should.

It checks each request's ``Clinic-Signature`` with its copy of the secrets (``api.webhooks.signature_verify``)
and answers 401 when it does not match; it processes each webhook id once (``seen``) and answers a repeat
with 200 without processing it again.  ``answers`` scripts the next requests: ``"ok"``, an HTTP status
(``503``), or ``("slow", seconds)``: process the event, then answer only after ``seconds`` (longer than
the clinic waits, so the clinic records a timeout although the event arrived).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from api.webhooks import SignatureInvalid, signature_verify


@dataclass
class ReceivedRequest:
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["Clinic-Webhook-Id"]


@dataclass
class Receiver:
    url: str = ""
    secrets: list[str] = field(default_factory=list)  # one per endpoint that points here
    requests: list[ReceivedRequest] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # webhook ids processed, in order; each at most once
    events: list[dict[str, Any]] = field(default_factory=list)  # the payloads processed
    answers: list[object] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> object:
        with self.lock:
            return self.answers.pop(0) if self.answers else "ok"

    @property
    def verified_requests(self) -> list[ReceivedRequest]:
        return [request for request in self.requests if request.verified]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def _answer(self, status: int) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the clinic stopped waiting (a timeout): nobody reads the answer
                self.close_connection = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = dict(self.headers)
            verified = False
            for secret in receiver.secrets:
                try:
                    signature_verify(secret=secret, body=body, header=headers.get("Clinic-Signature", ""))
                    verified = True
                except SignatureInvalid:
                    continue
            with receiver.lock:
                receiver.requests.append(ReceivedRequest(headers, body, verified))
            if not verified:
                self._answer(401)
                return
            answer = receiver.next_answer()
            if isinstance(answer, int):
                self._answer(answer)
                return
            webhook_id = headers["Clinic-Webhook-Id"]
            with receiver.lock:
                if webhook_id not in receiver.seen:  # a repeat of a processed webhook is dropped
                    receiver.seen.append(webhook_id)
                    receiver.events.append(json.loads(body))
            if isinstance(answer, tuple) and answer[0] == "slow":
                time.sleep(answer[1])
            self._answer(200)

    return Handler


@contextmanager
def receiver_running() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/clinic-events"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
