"""A local stand-in for Twilio's Messages API: an ``http.server`` thread that records every request.

``answers`` decides what the next requests get: ``"ok"`` (201 with a message sid), an HTTP status
(``400``, ``503``), or ``"hang_up"`` (read the request, close the connection without an answer: the
outcome the sender cannot know).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    form: dict[str, str]

    @property
    def basic_auth(self) -> tuple[str, str]:
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        assert scheme == "Basic"
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user, password


@dataclass
class FakeSmsProvider:
    base_url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    answers: list[object] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> object:
        with self.lock:
            return self.answers.pop(0) if self.answers else "ok"


def _handler(provider: FakeSmsProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length).decode()
            form = {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}
            with provider.lock:
                provider.requests.append(RecordedRequest(self.path, dict(self.headers), form))
                number = len(provider.requests)
            answer = provider.next_answer()
            if answer == "hang_up":
                self.close_connection = True
                self.connection.close()
                return
            if answer == "ok":
                status, body = 201, {"sid": f"SM{number:032d}", "status": "queued", "to": form.get("To")}
            else:
                status, body = (
                    int(answer),
                    {"code": 21211, "message": "The 'To' number is not valid.", "status": answer},
                )
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@contextmanager
def fake_sms_provider() -> Iterator[FakeSmsProvider]:
    provider = FakeSmsProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
