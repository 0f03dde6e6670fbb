"""Account linking for messaging identities, against a real SQLite store."""
from datetime import datetime, timedelta, timezone

from bot import linking
from bot.pins import check_pin, hash_pin

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)


def test_pins_are_salted_hashes():
    a, b = hash_pin("4321"), hash_pin("4321")
    assert a != b and "4321" not in a
    assert check_pin("4321", a) and not check_pin("4322", a) and not check_pin("4321", None)


def test_a_copied_pin_hash_is_useless_without_the_servers_pepper(monkeypatch):
    stored = hash_pin("4321")
    assert stored.startswith("scrypt-hmac$")
    monkeypatch.setenv("PREPAGO_PIN_PEPPER", "x" * 48)  # an attacker with the database but not the pepper
    assert not any(check_pin(f"{guess:04d}", stored) for guess in range(4300, 4330))


def test_link_then_unlink(engine):
    assert linking.begin("whatsapp", "+521", T0, engine) == linking.ASK_ACCOUNT
    assert linking.intercept("whatsapp", "+521", "100100", T0, engine).reply == linking.ASK_PIN
    done = linking.intercept("whatsapp", "+521", "4321", T0, engine)
    assert "vinculado a la cuenta 100100" in done.reply
    assert linking.linked_account("whatsapp", "+521", engine) == "100100"
    assert linking.intercept("whatsapp", "+521", "mi saldo", T0, engine).account == "100100"
    assert "desvinculé" in linking.intercept("whatsapp", "+521", "Desvincular", T0, engine).reply
    assert linking.linked_account("whatsapp", "+521", engine) is None


def test_unknown_account_and_wrong_pin_get_the_same_answer_and_lock_after_five(engine):
    linking.begin("telegram", "42", T0, engine)
    answers = []
    for account in ("999999", "100100", "100100", "100100"):
        linking.intercept("telegram", "42", account, T0, engine)
        answers.append(linking.intercept("telegram", "42", "0000", T0, engine).reply)
    assert answers[0].split(".")[0] == answers[1].split(".")[0] == "El número de cuenta o el PIN no coinciden"
    linking.intercept("telegram", "42", "100100", T0, engine)
    # Four failures so far: the right PIN on the fifth try still links.
    assert "vinculado" in linking.intercept("telegram", "42", "4321", T0, engine).reply
    linking.intercept("telegram", "42", "desvincular", T0, engine)
    linking.begin("telegram", "43", T0, engine)
    for _ in range(5):
        linking.intercept("telegram", "43", "100100", T0, engine)
        reply = linking.intercept("telegram", "43", "1111", T0, engine).reply
    assert "bloqueada" in reply
    assert "bloqueada" in linking.begin("telegram", "43", T0 + timedelta(minutes=5), engine)
    assert linking.begin("telegram", "43", T0 + timedelta(minutes=31), engine) == linking.ASK_ACCOUNT


def test_abandoned_linking_expires_and_text_goes_to_the_assistant(engine):
    linking.begin("messenger", "p1", T0, engine)
    later = linking.intercept("messenger", "p1", "hola", T0 + timedelta(minutes=11), engine)
    assert later.reply is None and later.text == "hola"


def test_numbered_options_map_to_payloads(engine):
    linking.remember_options("whatsapp", "+522", [{"title": "Consultar mi saldo", "payload": "/check_balance"}], engine)
    choice = linking.intercept("whatsapp", "+522", "1", T0, engine)
    assert (choice.text, choice.title) == ("/check_balance", "Consultar mi saldo")
    assert linking.intercept("whatsapp", "+522", "1", T0, engine).text == "1"  # options are used once


# Hardening (issue 9): each of these passed an attacker through before.

def _try_pin(channel, user, account, pin, now, engine):
    linking.begin(channel, user, now, engine)
    linking.intercept(channel, user, account, now, engine)
    return linking.intercept(channel, user, pin, now, engine)


def test_linking_and_unlinking_your_own_account_never_resets_the_victims_count(engine):
    wrong = []
    for _ in range(3):
        wrong += [_try_pin("telegram", "77", "100100", "0000", T0, engine).reply for _ in range(2)]
        # The attacker links and unlinks an account they own in between.
        _try_pin("telegram", "77", "200200", "8765", T0, engine)
        linking.intercept("telegram", "77", "desvincular", T0, engine)
    assert any("bloqueada" in reply for reply in wrong[:4])
    # The victim's account is locked for every chat, not only the attacker's.
    assert "bloqueada" in _try_pin("telegram", "78", "100100", "4321", T0, engine).reply


def test_many_chats_share_the_count_of_the_account_they_try(engine):
    replies = [_try_pin("whatsapp", f"+5215500000{i}", "100100", "0000", T0, engine).reply for i in range(5)]
    assert "bloqueada" in replies[-1]
    # Even the right PIN from a fresh chat is not checked while the account is locked.
    assert "bloqueada" in _try_pin("whatsapp", "+5215599999", "100100", "4321", T0, engine).reply
    assert linking.linked_account("whatsapp", "+5215599999", engine) is None


def parallel_wrong_pins(engine, monkeypatch, channel: str) -> int:
    """Ten chats send a wrong PIN for 100100 at the same moment; how many PIN checks ran."""
    import threading

    checks = []
    real_check = linking.check_pin
    monkeypatch.setattr(linking, "check_pin", lambda pin, stored: checks.append(pin) or real_check(pin, stored))
    users = [f"{channel}-par{i}" for i in range(10)]
    for user in users:
        linking.begin(channel, user, T0, engine)
        linking.intercept(channel, user, "100100", T0, engine)
    threads = [threading.Thread(target=linking.intercept, args=(channel, u, "0000", T0, engine)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(checks)


def test_parallel_pin_messages_get_no_more_than_five_checks(engine, monkeypatch):
    assert parallel_wrong_pins(engine, monkeypatch, "messenger") <= linking.MAX_FAILURES
    assert "bloqueada" in _try_pin("messenger", "late", "100100", "4321", T0, engine).reply


def test_an_unknown_account_costs_the_same_scrypt_as_a_known_one(engine, monkeypatch):
    import hashlib

    calls = []
    real = hashlib.scrypt
    linking._decoy_hash()  # made once, outside the count
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    _try_pin("telegram", "501", "100100", "0000", T0, engine)
    known = len(calls)
    _try_pin("telegram", "502", "999999", "0000", T0, engine)
    assert known == 1 and len(calls) - known == 1


def test_a_pin_typed_after_the_step_expired_never_reaches_the_assistant(engine):
    linking.begin("whatsapp", "+5213", T0, engine)
    linking.intercept("whatsapp", "+5213", "100100", T0, engine)
    late = linking.intercept("whatsapp", "+5213", "4321", T0 + timedelta(minutes=11), engine)
    assert late.text is None and late.reply == linking.STEP_EXPIRED


def test_a_lock_alerts_the_chats_linked_to_that_account(engine):
    assert "vinculado" in _try_pin("telegram", "900", "100100", "4321", T0, engine).reply
    for _ in range(4):
        _try_pin("whatsapp", "+5218", "100100", "0000", T0, engine)
    locked = _try_pin("whatsapp", "+5218", "100100", "0000", T0, engine)
    assert "bloqueada" in locked.reply
    assert locked.alert and "100100" in locked.alert and locked.alert_to == (("telegram", "900"),)


def test_too_many_attempts_overall_are_refused_for_a_minute(engine, monkeypatch):
    monkeypatch.setattr(linking, "GLOBAL_PER_MINUTE", 3)
    replies = [_try_pin("telegram", f"g{i}", f"30000{i}", "0000", T0, engine).reply for i in range(4)]
    assert replies[-1] == linking.BUSY
    assert _try_pin("telegram", "g9", "300009", "0000", T0 + timedelta(minutes=1), engine).reply != linking.BUSY
