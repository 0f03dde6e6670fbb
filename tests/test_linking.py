"""Account linking for messaging identities, against a real SQLite store."""
from datetime import datetime, timedelta, timezone

from bot import linking
from bot.pins import check_pin, hash_pin

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)


def test_pins_are_salted_hashes():
    a, b = hash_pin("4321"), hash_pin("4321")
    assert a != b and "4321" not in a
    assert check_pin("4321", a) and not check_pin("4322", a) and not check_pin("4321", None)


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
