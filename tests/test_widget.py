"""The web widget in a real browser (Debian's Chromium driven by Playwright)
against the real servers started by the session's `stack` fixture."""
from __future__ import annotations

import os
from datetime import timedelta
import re

import pytest

from bot import formatting as fmt
from bot.config import settings
from bot.db import session_scope
from bot.identity import issue_token
from bot.store import get_account
from tests.conftest import PROJECT_ROOT

from tests.browser import ask, expect, new_page, open_chat, sign_in  # noqa: E402 (skips without Playwright)

# The README's screenshot is refreshed only on request (PREPAGO_UPDATE_SCREENSHOT=1), so a
# test run never rewrites a tracked file; otherwise it goes to the ignored tests/artifacts/.
SCREENSHOT = (PROJECT_ROOT / "docs" / "widget.png" if os.environ.get("PREPAGO_UPDATE_SCREENSHOT")
              else PROJECT_ROOT / "tests" / "artifacts" / "widget.png")


@pytest.fixture
def page(browser, stack):
    page = new_page(browser, stack.web_url)
    yield page
    page.context.close()


def balance(stack, account):
    with session_scope(stack.store) as session:
        return fmt.money(get_account(session, account).balance)


def test_page_bubble_and_spanish_greeting(page):
    expect(page).to_have_title("Centro de ayuda · Cuenta de Prepago")
    open_chat(page)
    expect(page.locator(".pc-bot").first).to_contain_text("¡Hola! Soy el asistente de tu Cuenta de Prepago")
    expect(page.get_by_label("Tu mensaje")).to_have_attribute("placeholder", "Escribe tu pregunta…")
    expect(page.locator(".pc-status")).to_have_text("Sin sesión · solo dudas generales")


def test_signed_in_customer_sees_seeded_balance_quick_replies_and_history(page, stack):
    open_chat(page)
    sign_in(page, "100100")
    assert balance(stack, "100100") in ask(page, "¿cuánto saldo tengo?")
    ask(page, "ayuda")
    page.get_by_role("button", name="Ver mis movimientos").last.click()
    expect(page.locator(".pc-user").last).to_have_text("Ver mis movimientos")  # the title, not the /payload
    expect(page.locator(".pc-log")).to_contain_text("Tus movimientos, del más reciente al más antiguo", timeout=30000)
    link_answer = ask(page, "¿cómo agrego fondos?")
    assert "Agregar Fondos" in link_answer
    link = page.get_by_role("link", name="Cuenta de Prepago").last
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("href", re.compile(r"^https://portal\.example\.mx/#prepaid_account$"))
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    page.reload()
    open_chat(page)
    expect(page.locator(".pc-log")).to_contain_text("¿cuánto saldo tengo?")
    expect(page.locator(".pc-log")).to_contain_text(balance(stack, "100100"))
    expect(page.locator(".pc-user", has_text="/show_activity")).to_have_count(0)


def test_customer_text_is_rendered_as_text(page):
    open_chat(page)
    attack = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    ask(page, attack)
    expect(page.locator(".pc-user").last).to_have_text(attack)
    assert page.locator(".pc-log img, .pc-log script").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_second_customer_sees_only_their_own_data_even_with_the_same_session_id(browser, stack, page):
    open_chat(page)
    sign_in(page, "100100")
    ask(page, "mi saldo")
    shared_session = page.evaluate("localStorage.getItem('prepago-chat-session')")

    other = browser.new_context()
    other.add_init_script(f"localStorage.setItem('prepago-chat-session', '{shared_session}')")
    intruder = other.new_page()
    intruder.goto(stack.web_url)
    open_chat(intruder)
    expect(intruder.locator(".pc-user")).to_have_count(0)  # anonymous: nothing of 100100's chat
    sign_in(intruder, "200200")
    expect(intruder.locator(".pc-user")).to_have_count(0)
    text = ask(intruder, "¿cuánto saldo tengo?")
    assert balance(stack, "200200") in text and balance(stack, "100100") not in text
    other.close()


@pytest.mark.parametrize("kind, status", [("expired", "Tu sesión expiró"), ("forged", "No pudimos verificar")])
def test_expired_or_forged_token_never_shows_data(browser, stack, kind, status):

    token = issue_token(settings(), "100100", ttl=timedelta(seconds=-1)) if kind == "expired" \
        else issue_token(settings(), "100100")[:-3] + "xyz"
    context = browser.new_context()
    context.add_init_script(f"sessionStorage.setItem('prepago-demo-token', '{token}')")
    page = context.new_page()
    page.goto(stack.web_url)
    open_chat(page)
    expect(page.locator(".pc-status")).to_contain_text(status)
    text = ask(page, "¿cuánto saldo tengo?")
    assert "MXN" not in text and "sesión" in text
    context.close()


def test_keyboard_and_phone_width(browser, stack):
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(stack.web_url)
    page.get_by_role("button", name="Abrir el chat de soporte").focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Soporte · Cuenta de Prepago")
    expect(panel).to_be_visible()
    expect(page.get_by_label("Tu mensaje")).to_be_focused()
    box = panel.bounding_box()
    assert box["width"] >= 370 and box["height"] >= 690  # full screen on a phone
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.get_by_role("button", name="Abrir el chat de soporte")).to_be_focused()
    context.close()


def test_an_expired_token_on_an_open_chat_is_renewed_and_the_message_answered(stack, page):
    short = issue_token(settings(), "100100", ttl=timedelta(seconds=3))
    page.evaluate("([t]) => { sessionStorage.setItem('prepago-demo-token', t);"
                  " sessionStorage.setItem('prepago-demo-account', '100100'); }", [short])
    page.reload()
    open_chat(page)
    expect(page.locator(".pc-status")).to_have_text("Sesión iniciada · cuenta 100100")
    page.wait_for_timeout(3500)  # the token expires while the chat stays open
    page.get_by_label("Tu mensaje").fill("¿cuánto saldo tengo?")
    page.get_by_label("Tu mensaje").press("Enter")
    expect(page.locator(".pc-log")).to_contain_text(balance(stack, "100100"), timeout=30000)
    assert "expiró" not in page.locator(".pc-log").inner_text()
    fresh = page.evaluate("() => sessionStorage.getItem('prepago-demo-token')")
    assert fresh and fresh != short
