"""A customer in the widget and an agent in the console, in two browser contexts (Debian's Chromium)."""
from __future__ import annotations

import json
import os
import time

import pytest

from bot import formatting as fmt
from bot.db import session_scope
from bot.store import get_account
from tests.browser import ask, expect, new_page, open_chat, sign_in
from tests.conftest import AGENT, PROJECT_ROOT

pytestmark = pytest.mark.server


@pytest.fixture
def pages(browser, stack):
    agent = new_page(browser, f"http://localhost:{stack.ports.console}/login")
    customer = new_page(browser, stack.web_url)
    yield agent, customer
    agent.context.close()
    customer.context.close()


def test_a_customer_and_an_agent_talk_live_then_the_assistant_is_back(pages, stack):
    agent, customer = pages
    expect(agent).to_have_title("Consola de Soporte · Iniciar sesión")
    agent.get_by_label("Usuario").fill(AGENT[0])
    agent.get_by_label("Contraseña").fill(AGENT[2])
    agent.get_by_role("button", name="Entrar").click()
    expect(agent.locator("#live")).to_have_text("En vivo", timeout=15000)
    expect(agent.locator(".cs-me")).to_have_text("Ana López")

    open_chat(customer)
    sign_in(customer, "100100")
    assert "te comunico con una persona de Soporte" in ask(customer, "quiero hablar con una persona")
    assert "Gracias, ya lo anoté" in ask(customer, "me cobraron una llamada a Cuba que nadie hizo")

    # The case shows up in the agent's queue by itself: no reload.
    item = agent.locator("#queue button").filter(has_text="cuenta 100100").filter(has_text="Cuba")
    expect(item).to_be_visible(timeout=15000)
    expect(item).to_contain_text("En espera")
    item.click()
    expect(agent.locator("#transcript")).to_contain_text("me cobraron una llamada a Cuba que nadie hizo")
    expect(agent.locator("#transcript")).to_contain_text("quiero hablar con una persona")
    with session_scope(stack.store) as session:
        balance = fmt.money(get_account(session, "100100").balance)
    expect(agent.locator("#context")).to_contain_text(f"saldo {balance}")

    # A message the customer writes now reaches the open case live as well.
    customer.get_by_label("Tu mensaje").fill("¿sigue ahí alguien?")
    customer.get_by_label("Tu mensaje").press("Enter")
    expect(agent.locator("#transcript")).to_contain_text("¿sigue ahí alguien?", timeout=15000)

    # The agent's text is text everywhere: no HTML, no Markdown, no script.
    reply = '<img src=x onerror="alert(1)"> Hola, soy **Ana**: ya revisé tu llamada.'
    agent.get_by_label("Respuesta al cliente").fill(reply)
    started = time.monotonic()
    agent.get_by_role("button", name="Enviar").click()
    bubble = customer.locator(".pc-agent").filter(has_text="ya revisé tu llamada")
    expect(bubble).to_be_visible(timeout=15000)
    seconds = time.monotonic() - started
    expect(bubble).to_contain_text(reply)
    expect(bubble.locator(".pc-agent-name")).to_have_text("Ana López · Soporte")
    expect(customer.locator(".pc-log img")).to_have_count(0)
    expect(customer.locator(".pc-agent strong")).to_have_count(0)
    expect(agent.locator("#transcript img")).to_have_count(0)
    expect(agent.locator("#transcript")).to_contain_text("Entregado al canal")
    expect(customer.locator(".pc-log")).to_contain_text("Ana López, de Soporte, tomó tu caso")
    shot = (PROJECT_ROOT / "docs" / "console.png" if os.environ.get("PREPAGO_UPDATE_SCREENSHOT")
            else PROJECT_ROOT / "tests" / "artifacts" / "console.png")
    shot.parent.mkdir(exist_ok=True)
    agent.screenshot(path=str(shot))

    agent.get_by_role("button", name="Cerrar el caso").click()
    expect(customer.locator(".pc-log")).to_contain_text("cerró la conversación con Soporte", timeout=15000)
    expect(agent.locator("#case-title")).to_contain_text("Cerrado")
    assert balance in ask(customer, "¿cuánto saldo tengo?")

    customer.reload()  # the agent's reply stays in the conversation's history, still as text
    open_chat(customer)
    expect(customer.locator(".pc-agent").filter(has_text="ya revisé tu llamada")).to_contain_text(reply)
    assert customer.dialogs == [] and agent.dialogs == []
    artifacts = PROJECT_ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "handoff.json").write_text(json.dumps({"agent_reply_to_widget_seconds": round(seconds, 3)}))


def test_the_insights_page_draws_its_charts_and_lists_what_was_not_understood(browser, stack):
    import random
    import uuid

    from tests.test_insights import nonsense, tracker, write_misses
    from tests.test_server import say

    rng = random.Random(uuid.uuid4().int)
    say(stack, "¿cómo agrego fondos?", session="insights-browser-01")
    # More groups than a page holds; the newest, the one labelled below, leads the list.
    write_misses(tracker(stack), [nonsense(rng) for _ in range(21)] + ["oye y lo de la cosa esa?"])
    agent = new_page(browser, f"http://localhost:{stack.ports.console}/login")
    try:
        agent.get_by_label("Usuario").fill(AGENT[0])
        agent.get_by_label("Contraseña").fill(AGENT[2])
        agent.get_by_role("button", name="Entrar").click()
        agent.get_by_role("link", name="Insights").click()
        expect(agent).to_have_title("Consola de Soporte · Insights")
        expect(agent.locator("#kpis")).to_contain_text("Resueltas sin una persona", timeout=30000)
        # Chart.js (served by the console, no CDN) drew every chart on its canvas.
        agent.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 4")
        for canvas in ("chart-volume", "chart-rates", "chart-channels", "chart-intents"):
            assert agent.evaluate(f"() => window.Chart.getChart('{canvas}').data.datasets[0].data.length") > 0
        # A page of groups; «Ver más», from the keyboard, brings the next and moves the focus to it.
        rows = agent.locator("#missed tbody tr")
        expect(rows).to_have_count(20)
        expect(agent.locator("#missed-count")).to_contain_text("Mostrando 20 de")
        more = agent.get_by_role("button", name="Ver más")
        more.focus()
        agent.keyboard.press("Enter")
        expect(rows.nth(20)).to_be_visible()
        assert rows.count() > 20
        assert agent.evaluate("() => document.activeElement.closest('tr') === "
                              "document.querySelectorAll('#missed tbody tr')[20]")
        expect(agent.locator("#missed-count")).to_contain_text(f"Mostrando {min(rows.count(), 40)} de")
        row = agent.locator("#missed tbody tr").filter(has_text="oye y lo de la cosa esa?").first
        expect(row).to_be_visible()
        row.get_by_role("button", name="Ver").click()
        expect(agent.locator("#conversation-lines")).to_contain_text("No estoy seguro")
        row.get_by_role("combobox").select_option("faq_check_activity")
        row.get_by_role("button", name="Guardar").click()
        expect(row).to_contain_text("Etiquetada")
        shot = (PROJECT_ROOT / "docs" / "insights.png" if os.environ.get("PREPAGO_UPDATE_SCREENSHOT")
                else PROJECT_ROOT / "tests" / "artifacts" / "insights.png")
        agent.screenshot(path=str(shot), full_page=True)
        assert agent.dialogs == []
    finally:
        agent.context.close()
