"""A local stand-in for the slice of Stripe's API that payments/ uses: nothing real is ever charged.

The real `stripe` SDK sends its real HTTP requests here (`PREPAGO_STRIPE_API_BASE`
is the only thing that changes): off-session PaymentIntents confirmed at once,
their search and listing, and Checkout Sessions in setup mode (the hosted page
where a customer saves a new card, served here too). It answers the way
Stripe documents, including the parts that matter for money:

* **Idempotency-Key**: a request repeated with the same key gets the saved
  answer again (`Idempotent-Replayed: true`), never a second charge; the same
  key with other parameters is refused (400), and while the first request with
  a key is still running a second one gets 409, as Stripe does.
* **Outcomes**, scripted per customer with `plan()`: `succeed`, `card_declined`,
  `expired_card`, `authentication_required` (3-D Secure), `error_500` (nothing
  charged, nothing saved), `timeout` (no answer in time, nothing charged) and
  `lost` (charged and saved, but the first answer never arrives: the retry with
  the same key is what finds it), `lost_all` (charged, and no answer ever
  arrives, retries included: only a search by the key finds it). Unplanned charges succeed, except Stripe's own
  test payment methods that always fail (`pm_card_chargeDeclined`…).

Tests run it inside tests/fake_providers.py; `make run` starts it on its own
(`python -m tools.stripe_standin --port 12111`, tools/serve.py).
"""
from __future__ import annotations

import argparse
import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlsplit

OUTCOMES = ("succeed", "card_declined", "expired_card", "authentication_required", "error_500", "timeout", "lost",
            "lost_all")
# Stripe's own test payment methods that always fail the same way.
ALWAYS = {"pm_card_chargeDeclined": "card_declined", "pm_card_chargeDeclinedExpiredCard": "expired_card",
          "pm_card_authenticationRequired": "authentication_required"}
DECLINES = {
    "card_declined": ("Your card was declined.", "generic_decline", "requires_payment_method"),
    "expired_card": ("Your card has expired.", "expired_card", "requires_payment_method"),
    "authentication_required": ("Your card was declined. This transaction requires authentication.",
                                "authentication_required", "requires_action"),
}
BRANDS = {"4": ("visa", "Visa"), "5": ("mastercard", "Mastercard"), "3": ("amex", "American Express")}


@dataclass
class Answer:
    status: int
    payload: dict
    headers: dict = field(default_factory=dict)
    hang: float = 0.0  # seconds to wait before answering (a timeout for a client that waits less)
    html: Optional[str] = None


class StripeStandIn:
    def __init__(self, hang_seconds: float = 3.0):
        self.lock = threading.Lock()
        self.hang_seconds = hang_seconds
        self.plans: dict[str, list[str]] = {}  # customer -> outcomes of its next new charges
        self.intents: dict[str, dict] = {}
        self.keys: dict[str, dict] = {}  # Idempotency-Key -> {"params", "answer", "outcome"}
        self.in_flight: set[str] = set()
        self.sessions: dict[str, dict] = {}
        self.setup_intents: dict[str, dict] = {}
        self.payment_methods: dict[str, dict] = {}
        self.requests: list[dict] = []  # every API request: method, path, key (tests)
        self.charge_seconds: list[float] = []  # time spent inside each charge (benchmarks subtract it)
        self.base = ""  # where this stand-in is reached, for the hosted pages' URLs

    # --- what tests and the demo control -----------------------------------
    def plan(self, customer: str, *outcomes: str) -> None:
        """The next new charges of `customer` get these outcomes, in order."""
        unknown = [o for o in outcomes if o not in OUTCOMES]
        if unknown:
            raise ValueError(f"unknown outcomes {unknown}; use {OUTCOMES}")
        with self.lock:
            self.plans.setdefault(customer, []).extend(outcomes)

    def charges(self, customer: Optional[str] = None) -> list[dict]:
        """PaymentIntents that actually moved money (succeeded)."""
        with self.lock:
            return [i for i in self.intents.values()
                    if i["status"] == "succeeded" and (customer is None or i["customer"] == customer)]

    def reset(self) -> None:
        """Forget every plan, charge and session (each test starts from none)."""
        with self.lock:
            for table in (self.plans, self.intents, self.keys, self.sessions, self.setup_intents, self.payment_methods):
                table.clear()
            self.requests.clear()
            self.charge_seconds.clear()

    # --- the API -------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict, raw_body: str) -> Answer:
        url = urlsplit(raw_path)
        path = url.path
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = {k: v[0] for k, v in parse_qs(raw_body).items()}
        key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), None)
        with self.lock:
            self.requests.append({"method": method, "path": path, "key": key, "body": body})
        if path == "/health":
            return Answer(200, {"status": "ok"})
        if path.startswith("/pay/"):
            return self._hosted_page(method, path[len("/pay/"):], body)
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not auth.startswith("Bearer sk_"):
            return Answer(401, _error("invalid_request_error", "Invalid API Key provided.", None))
        if method == "POST" and path == "/v1/payment_intents":
            return self._idempotent(key, body, self._create_intent)
        if method == "GET" and path == "/v1/payment_intents/search":
            return Answer(200, self._search(query.get("query", "")))
        if method == "GET" and path == "/v1/payment_intents":
            return Answer(200, self._list(query))
        match = re.fullmatch(r"/v1/payment_intents/(pi_\w+)", path)
        if method == "GET" and match:
            return self._get(self.intents, match.group(1), "payment_intent")
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._idempotent(key, body, self._create_session)
        match = re.fullmatch(r"/v1/checkout/sessions/(cs_\w+)", path)
        if method == "GET" and match:
            return self._get(self.sessions, match.group(1), "checkout.session", refresh=self._expire)
        match = re.fullmatch(r"/v1/setup_intents/(seti_\w+)", path)
        if method == "GET" and match:
            return self._get(self.setup_intents, match.group(1), "setup_intent")
        match = re.fullmatch(r"/v1/payment_methods/(pm_\w+)", path)
        if method == "GET" and match:
            return self._get(self.payment_methods, match.group(1), "payment_method")
        return Answer(404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).", None))

    def _idempotent(self, key: Optional[str], params: dict, create) -> Answer:
        if key is None:
            return create(params, None)
        with self.lock:
            saved = self.keys.get(key)
            if saved is not None and saved.get("params", params) != params:
                return Answer(400, _error("idempotency_error", "Keys for idempotent requests can only be used with "
                                          "the same parameters they were first used with.", None))
            if key in self.in_flight:
                return Answer(409, _error("idempotency_error", "There is currently another in-progress request "
                                          "using this Stripe API key and idempotency key.", None,
                                          code="idempotency_key_in_use"))
            if saved is not None and saved.get("answer") is not None:
                answer = saved["answer"]
                hang = self.hang_seconds if saved["outcome"] == "lost_all" else 0.0
                return Answer(answer.status, answer.payload, {**answer.headers, "Idempotent-Replayed": "true"}, hang)
            self.in_flight.add(key)
        try:
            answer = create(params, key)
        finally:
            with self.lock:
                self.in_flight.discard(key)
        return answer

    def _outcome(self, customer: str, payment_method: str, key: Optional[str]) -> str:
        with self.lock:
            if key in self.keys:  # a retry of a request that saved nothing (500, timeout): the same fate
                return self.keys[key]["outcome"]
            queue = self.plans.get(customer) or []
            outcome = queue.pop(0) if queue else ALWAYS.get(payment_method, "succeed")
            if key is not None:
                self.keys[key] = {"outcome": outcome, "answer": None}
            return outcome

    def _create_intent(self, params: dict, key: Optional[str]) -> Answer:
        started = time.monotonic()
        try:
            return self._charge(params, key)
        finally:
            with self.lock:
                self.charge_seconds.append(time.monotonic() - started)

    def _charge(self, params: dict, key: Optional[str]) -> Answer:
        required = ("amount", "currency", "customer", "payment_method")
        missing = [name for name in required if not params.get(name)]
        if missing:
            return Answer(400, _error("invalid_request_error", f"Missing required param: {missing[0]}.", missing[0]))
        if params.get("confirm") != "true" or params.get("off_session") != "true":
            return Answer(400, _error("invalid_request_error", "This stand-in only confirms off-session intents.",
                                      "confirm"))
        outcome = self._outcome(params["customer"], params["payment_method"], key)
        if outcome == "timeout":
            return Answer(200, {}, hang=self.hang_seconds)  # nothing charged; the client gives up first
        if outcome == "error_500":
            return Answer(500, _error("api_error", "An unknown error occurred.", None))
        intent = {
            "id": f"pi_{secrets.token_hex(12)}", "object": "payment_intent", "amount": int(params["amount"]),
            "currency": params["currency"], "customer": params["customer"],
            "payment_method": params["payment_method"], "created": int(time.time()), "livemode": False,
            "metadata": {k[len("metadata["):-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "off_session": True, "confirmation_method": "automatic", "capture_method": "automatic",
        }
        if outcome in DECLINES:
            message, decline_code, status = DECLINES[outcome]
            intent.update(status=status, latest_charge=None, last_payment_error={"code": outcome, "message": message})
            answer = Answer(402, _error("card_error", message, None, code=outcome, decline_code=decline_code,
                                        payment_intent=intent))
        else:
            intent.update(status="succeeded", latest_charge=f"ch_{secrets.token_hex(12)}", amount_received=intent["amount"])
            answer = Answer(200, intent)
        with self.lock:
            self.intents[intent["id"]] = intent
            if key is not None:
                self.keys[key]["answer"] = answer
                self.keys[key]["params"] = params
        if outcome in ("lost", "lost_all"):  # the charge is made and saved, but this answer arrives too late
            return Answer(answer.status, answer.payload, hang=self.hang_seconds)
        return answer

    def _search(self, query: str) -> dict:
        # Stripe's search language, the one clause we use: metadata['name']:'value'
        match = re.fullmatch(r"\s*metadata\['(\w+)'\]\s*:\s*'([^']*)'\s*", query)
        with self.lock:
            found = [i for i in self.intents.values() if match and i["metadata"].get(match.group(1)) == match.group(2)]
        return {"object": "search_result", "data": found, "has_more": False, "next_page": None, "url": "/v1/payment_intents/search"}

    def _list(self, query: dict) -> dict:
        since = int(query.get("created[gte]", 0))
        limit = int(query.get("limit", 10))
        with self.lock:
            found = sorted((i for i in self.intents.values() if i["created"] >= since), key=lambda i: i["created"],
                           reverse=True)
        after = query.get("starting_after")
        if after:
            ids = [i["id"] for i in found]
            found = found[ids.index(after) + 1:] if after in ids else []
        return {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": "/v1/payment_intents"}

    def _get(self, table: dict, ident: str, kind: str, refresh=None) -> Answer:
        with self.lock:
            item = table.get(ident)
            if item is not None and refresh:
                refresh(item)
        if item is None:
            return Answer(404, _error("invalid_request_error", f"No such {kind}: '{ident}'", "id",
                                      code="resource_missing"))
        return Answer(200, item)

    # --- Checkout in setup mode: the hosted page that saves a new card ------
    def _create_session(self, params: dict, key: Optional[str]) -> Answer:
        if params.get("mode") != "setup" or not params.get("customer") or not params.get("success_url"):
            return Answer(400, _error("invalid_request_error", "mode=setup, customer and success_url are required.",
                                      "mode"))
        now = int(time.time())
        expires_at = int(params.get("expires_at") or now + 24 * 3600)
        if not now + 30 * 60 - 5 <= expires_at <= now + 24 * 3600:
            return Answer(400, _error("invalid_request_error", "expires_at must be between 30 minutes and 24 hours "
                                      "from now.", "expires_at"))
        ident = f"cs_test_{secrets.token_hex(16)}"
        session = {"id": ident, "object": "checkout.session", "mode": "setup", "customer": params["customer"],
                   "status": "open", "expires_at": expires_at, "created": now, "setup_intent": None,
                   "success_url": params["success_url"], "url": f"{self.base}/pay/{ident}",
                   "metadata": {k[len("metadata["):-1]: v for k, v in params.items() if k.startswith("metadata[")}}
        with self.lock:
            self.sessions[ident] = session
        answer = Answer(200, session)
        if key is not None:
            with self.lock:
                self.keys[key] = {"outcome": "succeed", "answer": answer, "params": params}
        return answer

    @staticmethod
    def _expire(session: dict) -> None:
        if session["status"] == "open" and time.time() >= session["expires_at"]:
            session["status"] = "expired"

    def _hosted_page(self, method: str, ident: str, form: dict) -> Answer:
        with self.lock:
            session = self.sessions.get(ident)
            if session is not None:
                self._expire(session)
            if session is None:
                return _page(404, "Este enlace no existe.")
            if session["status"] == "expired":
                return _page(410, "Este enlace ya expiró. Pide uno nuevo en el chat.")
            if session["status"] == "complete":
                return _page(410, "Este enlace ya se usó. Si quieres cambiar la tarjeta otra vez, pide uno nuevo.")
            if method == "GET":
                return _page(200, "Guarda tu nueva tarjeta", form=True)
            number = re.sub(r"\D", "", form.get("number", ""))
            month, year = form.get("exp_month", ""), form.get("exp_year", "")
            if len(number) < 13 or number[0] not in BRANDS or not month.isdigit() or not year.isdigit():
                return _page(400, "Revisa los datos de la tarjeta.", form=True)
            brand = BRANDS[number[0]][0]
            method_id = f"pm_{secrets.token_hex(12)}"
            self.payment_methods[method_id] = {
                "id": method_id, "object": "payment_method", "type": "card", "customer": session["customer"],
                "card": {"brand": brand, "last4": number[-4:], "exp_month": int(month), "exp_year": int(year)}}
            setup = {"id": f"seti_{secrets.token_hex(12)}", "object": "setup_intent", "status": "succeeded",
                     "customer": session["customer"], "payment_method": method_id, "usage": "off_session"}
            self.setup_intents[setup["id"]] = setup
            session.update(status="complete", setup_intent=setup["id"])
        return _page(200, "Listo: guardamos tu nueva tarjeta. Ya puedes volver al chat.")


def brand_name(brand: str) -> str:
    """Stripe's brand code as customers read it ("visa" → "Visa")."""
    return next((name for code, name in BRANDS.values() if code == brand), brand.title())


def _error(kind: str, message: str, param: Optional[str], **extra) -> dict:
    return {"error": {"type": kind, "message": message, **({"param": param} if param else {}), **extra}}


def _page(status: int, message: str, form: bool = False) -> Answer:
    fields = ('<form method="post"><input name="number" placeholder="Número de tarjeta">'
              '<input name="exp_month" placeholder="MM"><input name="exp_year" placeholder="AAAA">'
              '<button>Guardar</button></form>') if form else ""
    return Answer(status, {}, html=f"<!doctype html><meta charset=utf-8><title>Tarjeta</title>"
                                   f"<p>{html.escape(message)}</p>{fields}")


def serve_answer(handler, answer: Answer) -> None:
    """Write `answer` on a BaseHTTPRequestHandler (shared with tests/fake_providers.py)."""
    if answer.hang:
        time.sleep(answer.hang)
    if answer.html is not None:
        data, ctype = answer.html.encode(), "text/html; charset=utf-8"
    else:
        data, ctype = json.dumps(answer.payload).encode(), "application/json"
    try:
        handler.send_response(answer.status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout on purpose)
        pass


def read_request(handler) -> str:
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length).decode() if length else ""


def main() -> None:
    parser = argparse.ArgumentParser(description="Stand-in local de Stripe para la demo (no cobra nada real)")
    parser.add_argument("--port", type=int, default=12111)
    args = parser.parse_args()
    standin = StripeStandIn()
    standin.base = f"http://127.0.0.1:{args.port}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_GET(self):
            serve_answer(self, standin.handle("GET", self.path, dict(self.headers), ""))

        def do_POST(self):
            serve_answer(self, standin.handle("POST", self.path, dict(self.headers), read_request(self)))

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
