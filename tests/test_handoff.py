"""The handoff's core on a real store: business hours, a case's rules, staff passwords and lockout."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db import session_scope
from handoff import cases, hours, relay, staff, views
from handoff.cases import CaseError, Line
from handoff.intake import hand_over
from handoff.models import Author, CaseMessage, Delivery, StaffUser
from tests.test_postgres import pg_engine  # noqa: F401 - the PostgreSQL fixture, for the lockout race

MX = ZoneInfo("America/Mexico_City")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MX)  # 23 Nov 2026 is a Monday


def test_business_hours_in_the_words_support_writes_them():
    week = hours.BusinessHours.parse("Lun-Vie 09:00-18:00; sáb 10:00-14:00")
    assert week.is_open(at(25, 9)) and not week.is_open(at(25, 18)) and week.is_open(at(28, 13, 59))
    assert not week.is_open(at(29, 12))  # Sunday
    assert week.next_opening(at(25, 20)) == at(26, 9)  # Wednesday night -> Thursday 9:00
    assert week.next_opening(at(28, 15)) == at(30, 9)  # Saturday afternoon -> Monday
    assert hours.when_text(at(26, 9), at(25, 20)) == "mañana a partir de las 9:00"
    assert hours.when_text(at(30, 9), at(28, 15)) == "el lunes 30 de noviembre a partir de las 9:00"
    assert hours.when_text(at(25, 9), at(25, 7)) == "hoy a partir de las 9:00"
    assert hours.BusinessHours.parse("24/7").is_open(at(29, 3))


@pytest.mark.parametrize("text", ["lunes a viernes", "lun-vie 18:00-09:00", "vie-lun 09:00-10:00", "xyz 09:00-10:00", ""])
def test_unreadable_hours_are_refused_with_a_reason(text):
    with pytest.raises(hours.HoursError):
        hours.BusinessHours.parse(text)


def test_outside_hours_the_customer_is_told_when_a_person_answers(engine, monkeypatch):
    monkeypatch.setenv("PREPAGO_SUPPORT_HOURS", "lun-vie 09:00-18:00")
    saturday_night = at(28, 22).astimezone(timezone.utc)
    text = hand_over("conv-hours", "whatsapp", "+5215500000001", "100100", "asked", None, [], saturday_night, engine)
    assert "fuera del horario de atención (lun-vie 09:00-18:00)" in text
    assert "te responderá aquí mismo el lunes 30 de noviembre a partir de las 9:00" in text
    assert "¿me cuentas en pocas palabras qué pasó?" in text
    again = hand_over("conv-hours", "whatsapp", "+5215500000001", "100100", "asked", None, [], saturday_night, engine)
    assert again.startswith("Tu caso #") and "sigue abierto" in again  # one case per conversation


def test_a_case_from_opening_to_closing(engine):
    agent = staff.create_user("ana", "Ana López", "una-contraseña-larga", engine)
    other = staff.create_user("beto", "Beto", "otra-contraseña-larga", engine)
    transcript = [Line(Author.CUSTOMER, "quiero un agente", datetime.now(timezone.utc))]
    case_id = cases.open_case("conv-1", "prepago_socketio", None, "100100", "asked", None, transcript,
                              engine=engine).case_id
    assert cases.customer_wrote("conv-1", "no me llega la recarga", engine=engine) == cases.NOTED
    assert cases.customer_wrote("conv-1", "¿hola?", engine=engine) == ""  # the agent answers, not the assistant
    assert cases.customer_wrote("conv-without-case", "hola", engine=engine) is None
    with pytest.raises(CaseError, match="Escribe un mensaje"):
        cases.agent_reply(case_id, agent.id, "   ", engine=engine)
    with pytest.raises(CaseError, match="muy largo"):
        cases.agent_reply(case_id, agent.id, "x" * 2001, engine=engine)
    cases.agent_reply(case_id, agent.id, "Hola, ya lo reviso.", engine=engine)  # replying takes the case
    with pytest.raises(CaseError, match="Ana López ya atiende este caso"):
        cases.take(case_id, other.id, engine=engine)
    route = relay.pending(case_id, engine=engine)
    assert [(m.author, m.text) for m in route.messages] == [
        (Author.SYSTEM, "Ana López, de Soporte, tomó tu caso y te escribirá aquí mismo."),
        (Author.AGENT, "Hola, ya lo reviso.")]
    cases.close(case_id, agent.id, engine=engine)
    with pytest.raises(CaseError, match="ya está cerrado"):
        cases.agent_reply(case_id, agent.id, "¿algo más?", engine=engine)
    assert cases.customer_wrote("conv-1", "gracias", engine=engine) is None  # the assistant has it again
    detail = views.detail(case_id, engine=engine)
    assert detail["status_label"] == "Cerrado" and detail["description"] == "no me llega la recarga"
    assert [line["author"] for line in detail["transcript"]] == [
        "customer", "customer", "customer", "system", "agent", "system"]


def test_a_message_the_channel_keeps_refusing_ends_as_failed_and_stays(engine):
    agent = staff.create_user("ana", "Ana", "una-contraseña-larga", engine)
    case_id = cases.open_case("conv-2", "whatsapp", "+5215500000002", None, "money", "cobro", [], engine=engine).case_id
    message = cases.agent_reply(case_id, agent.id, "Ya lo reviso", engine=engine)
    waiting = [m.id for m in relay.pending(case_id, engine=engine).messages]  # «Ana tomó tu caso» and the reply
    for _ in range(relay.MAX_ATTEMPTS):
        relay.mark(waiting, Delivery.PENDING, "WhatsApp no lo aceptó", engine=engine)
    with session_scope(engine) as session:
        stored = session.get(CaseMessage, message)
        assert stored.delivery == Delivery.FAILED and stored.attempts == relay.MAX_ATTEMPTS
        assert stored.text == "Ya lo reviso"
    assert relay.cases_to_relay(timedelta(0), engine=engine) == []  # not retried forever


def test_card_numbers_never_reach_the_agents_screen():
    assert cases.redact("mi tarjeta 4111-1111-1111-1111 y la 5454545454545454") == \
        "mi tarjeta [número oculto] y la [número oculto]"
    assert cases.redact("la extensión 102 gastó $1,234.50 el 3 de noviembre") == \
        "la extensión 102 gastó $1,234.50 el 3 de noviembre"


def test_staff_passwords_are_argon2id_and_wrong_or_unknown_users_read_the_same(engine):
    staff.create_user("ana", "Ana", "una-contraseña-larga", engine)
    with session_scope(engine) as session:
        stored = session.execute(select(StaffUser.password_hash)).scalar()
    assert stored.startswith("$argon2id$") and "una-contraseña-larga" not in stored
    for username, password in (("ana", "incorrecta"), ("nadie", "una-contraseña-larga"), (None, None)):
        with pytest.raises(staff.StaffError, match="Usuario o contraseña incorrectos"):
            staff.sign_in(username, password, engine=engine)
    signed = staff.sign_in("ana", "una-contraseña-larga", engine=engine)
    assert staff.session_for(signed.token, engine=engine)[0].username == "ana"
    staff.sign_out(signed.token, engine=engine)
    assert staff.session_for(signed.token, engine=engine) is None
    with pytest.raises(staff.StaffError, match="al menos 10"):
        staff.create_user("corto", "Corto", "123", engine)


def test_disabling_a_user_or_changing_the_password_ends_their_sessions(engine):
    staff.create_user("ana", "Ana", "una-contraseña-larga", engine)
    first = staff.sign_in("ana", "una-contraseña-larga", engine=engine)
    staff.set_password("ana", "la-nueva-contraseña", engine)
    assert staff.session_for(first.token, engine=engine) is None
    second = staff.sign_in("ana", "la-nueva-contraseña", engine=engine)
    staff.set_active("ana", False, engine)
    assert staff.session_for(second.token, engine=engine) is None
    with pytest.raises(staff.StaffError):
        staff.sign_in("ana", "la-nueva-contraseña", engine=engine)


def _race_wrong_passwords(engine, monkeypatch) -> int:
    staff.create_user("ana", "Ana", "una-contraseña-larga", engine)
    checked = []
    real = staff._check
    monkeypatch.setattr(staff, "_check", lambda stored, given: checked.append(given) or real(stored, given))
    barrier = threading.Barrier(10)

    def guess(i):
        barrier.wait()
        try:
            staff.sign_in("ana", f"intento-{i}", engine=engine)
        except staff.StaffError:
            pass

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with pytest.raises(staff.StaffError, match="bloqueada"):
        staff.sign_in("ana", "una-contraseña-larga", engine=engine)
    return len(checked)


def test_ten_parallel_guesses_check_at_most_five_passwords_then_lock(engine, monkeypatch):
    assert _race_wrong_passwords(engine, monkeypatch) <= staff.MAX_FAILURES


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("PREPAGO_TEST_POSTGRES_URL"), reason="set PREPAGO_TEST_POSTGRES_URL")
def test_ten_parallel_guesses_on_postgresql(pg_engine, monkeypatch):  # noqa: F811
    assert _race_wrong_passwords(pg_engine, monkeypatch) <= staff.MAX_FAILURES
