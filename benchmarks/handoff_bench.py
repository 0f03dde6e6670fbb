"""Human handoff through the real servers: how fast a case reaches the console and a reply reaches the widget.

A socket.io client plays the widget (the same events `web/widget.js` uses);
an aiohttp client plays the agent's console page (sign-in, the live event
stream, the reply and close buttons' requests).
"""
from __future__ import annotations

import asyncio
import re
import secrets
import time
from pathlib import Path

import aiohttp
import socketio

from benchmarks.speed_bench import free_port
from benchmarks.stats import peak_rss_mib, summary_ms
from bot.config import settings
from bot.db import engine_for
from bot.identity import issue_token
from bot.periods import today_in
from handoff.staff import create_user
from tools.seed import seed_demo
from tools.serve import Ports, local_endpoints, running_stack

AGENT = ("bench", "Agente de Prueba", secrets.token_urlsafe(16))


async def _agent_session(http: aiohttp.ClientSession, console: str) -> str:
    page = await (await http.get(f"{console}/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    await http.post(f"{console}/login", data={"csrf": csrf, "username": AGENT[0], "password": AGENT[2]})
    index = await (await http.get(f"{console}/")).text()
    return re.search(r'name="csrf-token" content="([^"]+)"', index).group(1)


async def _run(rasa_url: str, console: str, cases: int, replies: int) -> dict:
    turn, notice, replied = [], [], []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await _agent_session(http, console)
        headers = {"X-CSRF-Token": csrf}
        events: asyncio.Queue = asyncio.Queue()

        async def listen() -> None:
            async with http.get(f"{console}/api/events", timeout=aiohttp.ClientTimeout(total=None)) as stream:
                async for line in stream.content:
                    if line.startswith(b"event: changed"):
                        events.put_nowait(time.perf_counter())

        listener = asyncio.create_task(listen())
        await asyncio.sleep(1.0)
        for i in range(cases):
            received: asyncio.Queue = asyncio.Queue()
            widget = socketio.AsyncClient()
            widget.on("bot_uttered", lambda data: received.put_nowait((time.perf_counter(), data)))
            await widget.connect(rasa_url, socketio_path="/socket.io", transports=["websocket"],
                                 auth={"token": issue_token(settings(), "100100"), "session": secrets.token_hex(16)})
            while not events.empty():
                events.get_nowait()
            started = time.perf_counter()
            await widget.emit("user_uttered", {"message": "quiero hablar con una persona", "id": secrets.token_hex(8)})
            at, data = await asyncio.wait_for(received.get(), 30)
            assert "caso #" in data.get("text", ""), data
            turn.append(at - started)
            notice.append(await asyncio.wait_for(events.get(), 30) - started)
            queue = await (await http.get(f"{console}/api/cases")).json()
            case_id = max(c["id"] for c in queue["cases"])
            for r in range(replies):
                text = f"Respuesta {r} del caso {case_id}"
                started = time.perf_counter()
                async with http.post(f"{console}/api/cases/{case_id}/reply", json={"text": text}, headers=headers) as p:
                    assert p.status == 200, await p.text()
                while True:  # «tomó tu caso» comes first on the first reply
                    at, data = await asyncio.wait_for(received.get(), 30)
                    if data.get("text") == text:
                        break
                replied.append(at - started)
            await http.post(f"{console}/api/cases/{case_id}/close", json={}, headers=headers)
            await widget.disconnect()
        listener.cancel()
    return {"cases": cases, "replies": replies, "handoff_turn": summary_ms(turn), "console_notified": summary_ms(notice),
            "agent_reply_to_widget": summary_ms(replied)}


def handoff(model: Path, work: Path, cases: int = 20, replies: int = 3) -> dict:
    db_url = f"sqlite:///{work / 'prepago.db'}"
    seed_demo(engine_for(db_url), today_in("America/Mexico_City"))
    create_user(*AGENT, engine=engine_for(db_url))
    ports = Ports(free_port(), free_port(), None, free_port(), alerts=False)
    endpoints = local_endpoints(work / "endpoints.yml", ports.actions, work / "trackers.db")
    env = {"PREPAGO_DATABASE_URL": db_url, "PREPAGO_SUPPORT_HOURS": "24/7"}
    with running_stack(model, ports, work / "logs", env, endpoints) as stack:
        result = asyncio.run(_run(stack.rasa_url, f"http://127.0.0.1:{ports.console}", cases, replies))
        result["console_rss_mib"] = peak_rss_mib(stack.processes["console"].pid)
    return result
