"""Signed tokens and conversation binding: a customer only ever reaches their own account."""
from datetime import timedelta

import jwt
import pytest

from bot.config import settings
from bot.identity import (
    EXPIRED, INVALID, MISSING, Identity, conversation_id, identity_from_metadata,
    identity_metadata, issue_token, verify_token,
)
from channels.guard import BadRequest, bind


def test_valid_token_names_the_account():
    cfg = settings()
    who = verify_token(cfg, issue_token(cfg, "100100"))
    assert (who.account, who.error) == ("100100", None) and who.expires is not None


def test_missing_expired_and_forged_tokens_are_refused():
    cfg = settings()
    assert verify_token(cfg, None).error == MISSING
    assert verify_token(cfg, issue_token(cfg, "100100", ttl=timedelta(seconds=-5))).error == EXPIRED
    forged = jwt.encode({"sub": "100100", "iss": cfg.jwt_issuer, "aud": cfg.jwt_audience, "exp": 4102444800},
                        "not-the-secret-" * 4, algorithm="HS256")
    assert verify_token(cfg, forged) == Identity(None, INVALID)
    unsigned = jwt.encode({"sub": "100100", "iss": cfg.jwt_issuer, "aud": cfg.jwt_audience, "exp": 4102444800},
                          None, algorithm="none")
    assert verify_token(cfg, unsigned).account is None
    assert verify_token(cfg, "garbage").account is None


def test_token_for_another_audience_is_refused():
    cfg = settings()
    other = jwt.encode({"sub": "100100", "iss": cfg.jwt_issuer, "aud": "another-app", "exp": 4102444800},
                       cfg.jwt_secret, algorithm="HS256")
    assert verify_token(cfg, other).account is None


def test_conversation_is_bound_to_the_verified_account():
    cfg = settings()
    a = conversation_id(cfg, Identity("100100"), "same-client-session")
    b = conversation_id(cfg, Identity("200200"), "same-client-session")
    anon = conversation_id(cfg, Identity(None), "same-client-session")
    assert len({a, b, anon}) == 3
    assert a == conversation_id(cfg, Identity("100100"), "same-client-session")


def test_reusing_another_customers_session_id_never_reaches_their_conversation():
    cfg = settings()
    victim = bind(issue_token(cfg, "100100"), "shared-session-1234")
    attacker = bind(issue_token(cfg, "200200"), "shared-session-1234")
    anonymous = bind(None, "shared-session-1234")
    assert victim.sender_id not in {attacker.sender_id, anonymous.sender_id}
    assert attacker.account == "200200" and anonymous.account is None


def test_metadata_cannot_be_forged_or_moved_to_another_conversation():
    cfg = settings()
    metadata = identity_metadata(cfg, Identity("100100"), "conv-a")
    assert identity_from_metadata(cfg, metadata, "conv-a").account == "100100"
    assert identity_from_metadata(cfg, metadata, "conv-b").account is None
    tampered = {k: {**v, "account": "200200"} for k, v in metadata.items()}
    assert identity_from_metadata(cfg, tampered, "conv-a").account is None
    assert identity_from_metadata(cfg, {}, "conv-a") == Identity(None, MISSING)


def test_signed_identity_expires_with_its_turn_and_its_token(monkeypatch):
    from bot import identity

    cfg = settings()
    metadata = identity_metadata(cfg, Identity("100100"), "conv-a")
    later = identity._now() + identity.TURN_TTL_SECONDS + 1
    monkeypatch.setattr(identity, "_now", lambda: later)  # replayed from the tracker store or a log, later
    assert identity_from_metadata(cfg, metadata, "conv-a") == Identity(None, EXPIRED)
    monkeypatch.undo()
    short = verify_token(cfg, issue_token(cfg, "100100", ttl=timedelta(seconds=30)))
    assert identity_metadata(cfg, short, "conv-a")[identity.METADATA_KEY]["expires"] == short.expires
    stretched = {k: {**v, "expires": v["expires"] + 3600} for k, v in metadata.items()}
    assert identity_from_metadata(cfg, stretched, "conv-a").account is None


def test_raw_token_is_not_in_the_metadata():
    cfg = settings()
    token = issue_token(cfg, "100100")
    binding = bind(token, "client-session-1")
    assert token not in repr(binding)


@pytest.mark.parametrize("session", [None, "", "short", "x" * 129, "../../etc", 12345678])
def test_client_session_must_be_well_formed(session):
    with pytest.raises(BadRequest):
        bind(None, session)


def test_short_secret_is_refused(monkeypatch):
    monkeypatch.setenv("PREPAGO_JWT_SECRET", "too-short")
    with pytest.raises(Exception, match="PREPAGO_JWT_SECRET"):
        issue_token(settings(), "100100")


def test_a_long_lived_connection_loses_the_account_when_its_token_expires(monkeypatch):
    from bot import identity

    cfg = settings()
    binding = bind(issue_token(cfg, "100100", ttl=timedelta(seconds=60)), "socket-session-01")
    assert identity_from_metadata(cfg, binding.metadata(), binding.sender_id).account == "100100"
    later = identity._now() + 61  # the socket is still open, the token is not valid any more
    monkeypatch.setattr(identity, "_now", lambda: later)
    assert identity_from_metadata(cfg, binding.metadata(), binding.sender_id) == Identity(None, EXPIRED)


def test_a_forged_token_never_lands_in_an_anonymous_conversation():
    cfg = settings()
    anonymous = conversation_id(cfg, Identity(None, MISSING), "shared-session-01")
    forged = conversation_id(cfg, Identity(None, INVALID), "shared-session-01")
    assert anonymous != forged and anonymous.startswith("anon-") and forged.startswith("anon-")


def test_an_open_socket_shows_nothing_of_the_account_once_its_token_expired(monkeypatch):
    """`session_request` on a socket whose token expired: no account, history or alerts, just `session_expired`."""
    import asyncio
    from types import SimpleNamespace

    from sanic.compat import Header

    from bot import identity
    from channels.secure_socketio import SecureSocketIOInput

    async def no_turns(_message):
        raise AssertionError("no turn runs on an expired token")

    channel = SecureSocketIOInput()
    channel.blueprint(no_turns)
    sio, sessions, emitted = channel.sio, {}, []

    async def save_session(sid, data):
        sessions[sid] = data

    async def get_session(sid):
        return sessions[sid]

    async def emit(event, data=None, room=None, **_):
        emitted.append((event, data))

    async def history(*_):
        return [{"from": "bot", "text": "Tu saldo es de $1,234.50 MXN"}]

    async def alerts(_account):
        return ["Tu saldo bajó a $90.00 MXN"]

    monkeypatch.setattr(sio, "save_session", save_session)
    monkeypatch.setattr(sio, "get_session", get_session)
    monkeypatch.setattr(sio, "emit", emit)
    monkeypatch.setattr(sio, "enter_room", lambda *_: None)
    monkeypatch.setattr(channel, "_history", history)
    monkeypatch.setattr(SecureSocketIOInput, "_alerts_for", staticmethod(alerts))
    handlers = sio.handlers["/"]
    request = SimpleNamespace(ip="127.0.0.1", headers=Header())  # what engineio hands over: Sanic's request
    token = issue_token(settings(), "100100", ttl=timedelta(seconds=60))
    opened = identity._now()
    monkeypatch.setattr(identity, "_now", lambda: opened)

    async def visit(at: int) -> list:
        monkeypatch.setattr(identity, "_now", lambda: at)
        emitted.clear()
        await handlers["session_request"]("sid-1")
        return list(emitted)

    async def scenario():
        assert await handlers["connect"]("sid-1", {"sanic.request": request}, {"token": token, "session": "socket-session-02"})
        fresh, late = await visit(opened + 30), await visit(opened + 61)
        emitted.clear()
        await handlers["user_uttered"]("sid-1", {"message": "¿cuánto saldo tengo?", "id": "message-0001"})
        return fresh, late, list(emitted)

    fresh, late, after = asyncio.run(scenario())
    assert fresh[0][0] == "session_confirm" and fresh[0][1]["signed_in"] and len(fresh) == 2  # the alert too
    assert late == [("session_expired", {"id": None})]
    assert after == [("session_expired", {"id": "message-0001"})]
