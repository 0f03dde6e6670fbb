"""A local stand-in for the Twilio, Telegram, Meta Graph, Chatwoot and Stripe APIs.

The channels' real SDKs send their real HTTP requests here (the API base URL
is the only thing the tests change); this server records each request and
answers the way the provider documents, so the tests can assert exactly what
a customer would receive. Stripe's PaymentIntents and setup sessions are
answered by tools/stripe_standin.py (`recorded.stripe`), the same stand-in
`make run` starts on its own.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tools.stripe_standin import StripeStandIn, read_request, serve_answer


# Twilio refuses free-form messages to this number, as it does outside WhatsApp's 24-hour window.
REFUSED_WHATSAPP = "whatsapp:+5215599990000"


class Recorded:
    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.stripe = StripeStandIn(hang_seconds=2.5)

    def add(self, item: dict) -> None:
        with self.lock:
            self.requests.append(item)

    def since(self, mark: int) -> list[dict]:
        with self.lock:
            return list(self.requests[mark:])

    def mark(self) -> int:
        with self.lock:
            return len(self.requests)


def _handler(recorded: Recorded):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _stripe(self) -> bool:
            if not self.path.startswith(("/v1/", "/pay/")):
                return False
            raw = read_request(self) if self.command == "POST" else ""
            serve_answer(self, recorded.stripe.handle(self.command, self.path, dict(self.headers), raw))
            return True

        def do_GET(self):
            if not self._stripe():
                self._reply(404, {"error": "unknown endpoint"})

        def do_POST(self):
            if self._stripe():
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            url = urlsplit(self.path)
            ctype = self.headers.get("Content-Type", "")
            if "json" in ctype:
                body = json.loads(raw or "{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            recorded.add({"path": url.path, "query": parse_qs(url.query), "body": body,
                          "headers": dict(self.headers)})
            if url.path.endswith("/Messages.json") and body.get("To") == REFUSED_WHATSAPP:
                self._reply(400, {"code": 63016, "status": 400, "more_info": "https://www.twilio.com/docs/errors/63016",
                                  "message": "Failed to send freeform message because you are outside the allowed "
                                             "window. If you want to send a message outside this window, you need "
                                             "to use a template that has been approved."})
            elif re.match(r"^/2010-04-01/Accounts/[^/]+/Messages\.json$", url.path):  # Twilio
                sid = url.path.split("/")[3]
                self._reply(201, {"sid": f"SM{int(time.time() * 1e6)}", "account_sid": sid, "status": "queued",
                                  "to": body.get("To"), "from": body.get("From"), "body": body.get("Body"),
                                  "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01"})
            elif re.match(r"^/bot[^/]+/sendMessage$", url.path):  # Telegram
                self._reply(200, {"ok": True, "result": {
                    "message_id": len(recorded.requests), "date": int(time.time()),
                    "chat": {"id": int(body.get("chat_id")), "type": "private"}, "text": body.get("text")}})
            elif re.match(r"^/bot[^/]+/answerCallbackQuery$", url.path):
                self._reply(200, {"ok": True, "result": True})
            elif url.path.startswith("/api/v1/accounts/"):  # Chatwoot's application API
                self._chatwoot(url.path, body)
            elif url.path.endswith("/me/messages"):  # Graph API
                self._reply(200, {"recipient_id": body.get("recipient", {}).get("id"), "message_id": "m_fake"})
            else:
                self._reply(404, {"error": "unknown endpoint"})

        def _chatwoot(self, path: str, body: dict) -> None:
            if not self.headers.get("api_access_token"):
                return self._reply(401, {"error": "You need to sign in or sign up before continuing."})
            number = len(recorded.requests)
            if re.match(r"^/api/v1/accounts/\d+/contacts$", path):
                self._reply(200, {"payload": {
                    "contact": {"id": number, "name": body.get("name"), "identifier": body.get("identifier")},
                    "contact_inbox": {"source_id": f"src-{number}", "inbox": {"id": body.get("inbox_id")}}}})
            elif re.match(r"^/api/v1/accounts/\d+/conversations$", path):
                self._reply(200, {"id": 9000 + number, "inbox_id": body.get("inbox_id"), "status": "open",
                                  "contact_inbox": {"source_id": body.get("source_id")}})
            elif re.match(r"^/api/v1/accounts/\d+/conversations/\d+/messages$", path):
                self._reply(200, {"id": number, "content": body.get("content"), "private": body.get("private", False),
                                  "message_type": 0 if body.get("message_type") == "incoming" else 1})
            else:
                self._reply(404, {"error": "Resource could not be found"})

        def _reply(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def start() -> tuple[ThreadingHTTPServer, Recorded]:
    recorded = Recorded()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorded))
    recorded.stripe.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, recorded
