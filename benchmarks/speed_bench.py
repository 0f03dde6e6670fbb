"""Latency and throughput through the real HTTP servers, ours and a stock
`rasa init` assistant, started on this machine in the same run."""
from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from benchmarks.load import customer_address, run_load, sequential
from benchmarks.stats import peak_rss_mib, summary_ms
from bot.config import settings
from bot.db import engine_for
from bot.identity import issue_token
from bot.periods import today_in
from tools.seed import seed_demo
from tools.serve import QUIET_ENV, Ports, _wait_for, local_endpoints, running_stack

RASA = str(Path(sys.executable).with_name("rasa"))
FAQ_TEXT = "¿cómo agrego fondos a mi cuenta de prepago?"
# A customer's chat is a handful of turns; Rasa re-reads a conversation's whole
# history on every message, so each virtual user starts a new conversation
# after this many messages instead of growing one without end.
TURNS_PER_CONVERSATION = 10
LOOKUP_TEXT = "¿cuánto saldo tengo?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def our_assistant(model: Path, work: Path) -> Iterator[dict]:
    db_url = f"sqlite:///{work / 'prepago.db'}"
    seed_demo(engine_for(db_url), today_in("America/Mexico_City"))
    ports = Ports(free_port(), free_port(), None, None, alerts=False)
    endpoints = local_endpoints(work / "endpoints.yml", ports.actions, work / "trackers.db")
    started = time.perf_counter()
    env = {"PREPAGO_DATABASE_URL": db_url, "PREPAGO_TRUSTED_PROXIES": "127.0.0.1"}  # benchmarks/load.py
    with running_stack(model, ports, work / "logs", env, endpoints) as stack:
        ready = time.perf_counter() - started
        yield {"url": stack.rasa_url, "ready_s": round(ready, 1), "processes": stack.processes}


def train_stock(work: Path) -> tuple[Path, float]:
    """`rasa init --no-prompt` scaffolds and trains the stock moodbot assistant."""
    project = work / "stock"
    project.mkdir()  # `rasa init --init-dir` wants an existing folder
    started = time.perf_counter()
    subprocess.run([RASA, "init", "--no-prompt", "--init-dir", str(project)], check=True,
                   env={**os.environ, **QUIET_ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return project, time.perf_counter() - started


@contextmanager
def stock_assistant(project: Path, token: str) -> Iterator[dict]:
    port = free_port()
    started = time.perf_counter()
    log = open(project / "rasa.log", "w")
    process = subprocess.Popen(
        [RASA, "run", "--port", str(port), "--interface", "127.0.0.1", "--enable-api", f"--auth-token={token}"],
        cwd=project, env={**os.environ, **QUIET_ENV}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not _wait_for(f"http://127.0.0.1:{port}/webhooks/rest/", process, time.monotonic() + 180):
            raise RuntimeError((project / "rasa.log").read_text()[-3000:])
        yield {"url": f"http://127.0.0.1:{port}", "ready_s": round(time.perf_counter() - started, 1),
               "processes": {"rasa": process}}
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def measure(name: str, url: str, api_token: str, ours: bool, one_user_n: int, load_seconds: float,
            concurrencies: tuple[int, ...]) -> dict:
    customer = {"Authorization": f"Bearer {issue_token(settings(), '100100')}"} if ours else {}
    run_id = secrets.token_hex(4)

    def parse(u, i):
        return f"{url}/model/parse?token={api_token}", {"text": FAQ_TEXT}, {}

    def message(text, auth):
        def factory(u, i):
            if ours:
                return (f"{url}/webhooks/prepago/webhook",
                        {"session": f"bench-{run_id}-{u:04d}-{i // TURNS_PER_CONVERSATION}", "message": text(i)},
                        {**customer_address(u), **(customer if auth else {})})
            return (f"{url}/webhooks/rest/webhook",
                    {"sender": f"bench-{run_id}-{u}-{i // TURNS_PER_CONVERSATION}", "message": text(i)},
                    customer_address(u))
        return factory

    faq = message(lambda i: FAQ_TEXT if ours else "hello", auth=False)
    lookup = message(lambda i: LOOKUP_TEXT, auth=True)
    mixed = message(lambda i: (FAQ_TEXT if i % 2 else LOOKUP_TEXT) if ours else ("hello" if i % 2 else "I am happy"), auth=True)

    result = {
        "parse": summary_ms(sequential(parse, one_user_n)),
        "faq_end_to_end": summary_ms(sequential(faq, one_user_n)),
    }
    if ours:
        result["lookup_end_to_end"] = summary_ms(sequential(lookup, one_user_n))
    result["load"] = [asyncio.run(run_load(mixed, c, load_seconds)).as_dict() for c in concurrencies]
    return result


def speed(model: Path, work: Path, one_user_n: int = 200, load_seconds: float = 30.0,
          concurrencies: tuple[int, ...] = (8, 32), with_stock: bool = True) -> dict:
    api_token = os.environ["RASA_API_TOKEN"]
    out: dict = {}
    with our_assistant(model, work) as ours:
        out["ours"] = {"ready_s": ours["ready_s"],
                       **measure("ours", ours["url"], api_token, True, one_user_n, load_seconds, concurrencies)}
        out["ours"]["peak_rss_mib"] = {n: peak_rss_mib(p.pid) for n, p in ours["processes"].items()}
    if with_stock:
        project, train_s = train_stock(work)
        with stock_assistant(project, api_token) as stock:
            out["stock"] = {"ready_s": stock["ready_s"],
                            **measure("stock", stock["url"], api_token, False, one_user_n, load_seconds, concurrencies)}
            out["stock"]["peak_rss_mib"] = {"rasa": peak_rss_mib(stock["processes"]["rasa"].pid)}
        out["stock"]["train_s"] = round(train_s, 1)
        out["stock"]["model_mib"] = round(sum(p.stat().st_size for p in (project / "models").glob("*.tar.gz")) / 2**20, 1)
        shutil.rmtree(project, ignore_errors=True)
    return out
