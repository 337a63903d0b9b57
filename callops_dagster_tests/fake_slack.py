"""A Slack incoming webhook on 127.0.0.1 for tests: answers from a script, records requests.

The webhook path holds a distinctive secret, so tests can prove the URL leaks nowhere.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "xoxSECRETcallops7f3a9e"
SECRET_PATH = f"/services/T0CALLOPS/B0ALERTS/{SECRET}"


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any]

    @property
    def text(self) -> str:
        return self.payload.get("text", "")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.payload.get("blocks", [])


class FakeSlack:
    """``with FakeSlack([Reply(429, headers={"Retry-After": "1"})]) as slack: slack.url``.

    Replies are used in order, then ``default`` for every later request.
    """

    def __init__(self, replies: list[Reply] | None = None, default: Reply | None = None):
        self.replies = list(replies or [])
        self.default = default or Reply()
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake._lock:
                    fake.requests.append(Received(self.path, dict(self.headers), json.loads(raw or b"{}")))
                    reply = fake.replies.pop(0) if fake.replies else fake.default
                data = reply.body.encode()
                self.send_response(reply.status)
                for name, value in {"Content-Type": "text/plain", **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # the request line has the secret
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # serve_forever looks for shutdown every poll_interval (0.5 s by default): each test
        # using the fake waited that long on leaving it.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{SECRET_PATH}"

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def closed_port_url() -> str:
    """A webhook URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{SECRET_PATH}"
