"""Shared fixtures: a real seeded SQLite account store and test secrets."""
from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests import clock

# Before anything reads the time: this process and every server the tests start
# run on the session's clock (tests/clock.py), never the wall clock.
clock.start()

# Set before any project module reads its settings.
os.environ.setdefault("PREPAGO_JWT_SECRET", secrets.token_urlsafe(48))
os.environ.setdefault("RASA_API_TOKEN", secrets.token_urlsafe(24))
os.environ.setdefault("PREPAGO_PIN_PEPPER", secrets.token_urlsafe(48))
os.environ.setdefault("PREPAGO_ACTION_TOKEN", secrets.token_urlsafe(32))
os.environ.setdefault("PREPAGO_PORTAL_URL", "https://portal.example.mx")

from bot.db import engine_for  # noqa: E402
from bot.periods import MONTHS, today_in  # noqa: E402
from tools.seed import seed_demo  # noqa: E402
from tools.serve import Ports, local_endpoints, running_stack, supervised  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "prepago.tar.gz"
NOW = clock.NOW
ANCHOR = today_in("America/Mexico_City", NOW)  # the demo history ends the day before


def month_in_history(back: int = 1) -> str:
    """The name of a whole month of the demo history: 1 the last one before ANCHOR's, 2 the one before it."""
    day = ANCHOR.replace(day=1)
    for _ in range(back):
        day = (day - timedelta(days=1)).replace(day=1)
    return MONTHS[day.month - 1]


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'prepago.db'}"
    monkeypatch.setenv("PREPAGO_DATABASE_URL", url)
    seed_demo(engine_for(url), ANCHOR)
    return url


@pytest.fixture
def engine(db_url):
    return engine_for(db_url)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run the tests with `make test`, which trains it first.")
    return MODEL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Test credentials of the messaging channels (the provider APIs are faked locally).
CHANNEL_SECRETS = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
    "TWILIO_WHATSAPP_NUMBER": "+14155238886",
    "PREPAGO_WHATSAPP_WEBHOOK_URL": "",
    "TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35,
    "TELEGRAM_WEBHOOK_SECRET": secrets.token_urlsafe(24),
    "MESSENGER_PAGE_ACCESS_TOKEN": "EAAB" + secrets.token_hex(16),
    "MESSENGER_APP_SECRET": secrets.token_hex(16),
    "MESSENGER_VERIFY_TOKEN": secrets.token_urlsafe(12),
}


@pytest.fixture(scope="session")
def providers():
    from tests import fake_providers

    server, recorded = fake_providers.start()
    recorded.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield recorded
    server.shutdown()


def support_hours_around(moment: datetime, hours: int = 4) -> str:
    """Support open every day for `hours` either side of `moment` (local): the test
    stack is open for customers in Mexico City and closed for one in Tokyo."""
    start, end = (moment.hour - hours) * 60 + moment.minute, (moment.hour + hours) * 60 + moment.minute
    clock = lambda minutes: f"{minutes // 60:02d}:{minutes % 60:02d}"  # noqa: E731
    windows = [(max(start, 0), min(end, 1440))]
    if start < 0:
        windows.append((1440 + start, 1440))
    if end > 1440:
        windows.append((0, end - 1440))
    return "; ".join(f"lun-dom {clock(a)}-{clock(b)}" for a, b in windows)


# The alert worker of the test stack: never quiet, quick rounds, approved WhatsApp templates.
ALERT_SETTINGS = {"PREPAGO_ALERT_QUIET_HOURS": "00:00-00:00", "PREPAGO_ALERTS_IDLE_SECONDS": "0.3",
                  "PREPAGO_WA_TEMPLATE_LOW_BALANCE": "HX" + "1" * 32, "PREPAGO_WA_TEMPLATE_RECHARGE_FAILED": "HX" + "2" * 32,
                  "PREPAGO_WA_TEMPLATE_CARD_EXPIRING": "HX" + "3" * 32}


# Payments against the Stripe stand-in in tests/fake_providers.py: a short timeout, so a
# provider that never answers is given up on quickly; the daily limit is tested in tests/test_payments.py.
PAYMENT_SETTINGS = {"PREPAGO_STRIPE_TIMEOUT": "1", "PREPAGO_ADD_FUNDS_DAILY_LIMIT": "1000000"}


# The console's test agent (tests/test_console.py, tests/test_handoff_browser.py).
AGENT = ("ana", "Ana López", "contraseña-de-prueba-123")


@pytest.fixture(scope="session")
def stack(trained_model, tmp_path_factory, providers):
    from zoneinfo import ZoneInfo

    from handoff.staff import create_user

    work = tmp_path_factory.mktemp("stack")
    db_url = f"sqlite:///{work / 'prepago.db'}"
    seed_demo(engine_for(db_url), ANCHOR)
    create_user(*AGENT, engine=engine_for(db_url))
    ports = Ports(_free_port(), _free_port(), _free_port(), _free_port())
    endpoints = local_endpoints(work / "endpoints.yml", ports.actions, work / "trackers.db")
    hours = support_hours_around(NOW.astimezone(ZoneInfo("America/Mexico_City")))
    env = {"PREPAGO_DATABASE_URL": db_url, **CHANNEL_SECRETS, "PREPAGO_TWILIO_API_BASE": providers.base,
           "PREPAGO_TELEGRAM_API_BASE": providers.base, "PREPAGO_GRAPH_API_BASE": providers.base,
           "PREPAGO_SUPPORT_HOURS": hours, "PREPAGO_TRACKER_DB_URL": f"sqlite:///{work / 'trackers.db'}",
           # The tests stand in for the proxy: each conversation of tests/test_server.py's `say` has its own address.
           "PREPAGO_TRUSTED_PROXIES": "127.0.0.1", **ALERT_SETTINGS, **PAYMENT_SETTINGS,
           "PREPAGO_STRIPE_API_BASE": providers.base}
    with running_stack(trained_model, ports, work / "logs", env, endpoints) as s, supervised(s):
        s.work, s.store, s.support_hours = work, engine_for(db_url), hours
        yield s


# Per module, not per session: Playwright's sync API keeps an event loop running in
# the main thread while the browser is open, and other tests call asyncio.run().
@pytest.fixture(scope="module")
def browser():
    from tests.browser import launch_browser

    with launch_browser() as running:
        yield running


# The machine's services (`.ci/run` sets these); without them the cluster tests say why they skip.
POSTGRES_URL = os.environ.get("PREPAGO_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("PREPAGO_TEST_REDIS_URL")
CLUSTER_DATABASE = "prepago_cluster_test"


@pytest.fixture(scope="session")
def cluster(trained_model, tmp_path_factory, providers):
    """Two Rasa replicas and one action server behind HAProxy, on PostgreSQL and Redis.

    One per session: tests that kill a replica start it again before they end.
    """
    from sqlalchemy.engine import make_url

    from tools.cluster import ClusterPorts, check_services, drop_database, running_cluster

    if not POSTGRES_URL or not REDIS_URL:
        pytest.skip("set PREPAGO_TEST_POSTGRES_URL and PREPAGO_TEST_REDIS_URL (as .ci/run does) for the cluster tests")
    database_url = make_url(POSTGRES_URL).set(database=CLUSTER_DATABASE).render_as_string(hide_password=False)
    problem = check_services(database_url, REDIS_URL)
    if problem:
        pytest.fail(problem)
    drop_database(database_url)  # every run starts with no conversations
    ports = ClusterPorts(lb=_free_port(), actions_lb=_free_port(), web=_free_port(), console=_free_port(),
                         replicas=[_free_port(), _free_port()], actions=[_free_port()])
    work = tmp_path_factory.mktemp("cluster")
    env = {**CHANNEL_SECRETS, "PREPAGO_TWILIO_API_BASE": providers.base,
           "PREPAGO_TELEGRAM_API_BASE": providers.base, "PREPAGO_GRAPH_API_BASE": providers.base}
    with running_cluster(trained_model, ports, work, database_url, redis_url=REDIS_URL,
                         key_prefix=f"test{os.getpid()}", env=env) as running, supervised(running):
        running.database_url = database_url
        yield running


@pytest.fixture
def postgres_schema():
    """A PostgreSQL schema of this test's own in PREPAGO_TEST_POSTGRES_URL's database, dropped after."""
    import uuid

    from sqlalchemy import create_engine, text

    if not POSTGRES_URL:
        pytest.skip("set PREPAGO_TEST_POSTGRES_URL (as .ci/run does) to test on PostgreSQL")
    schema = f"t{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
