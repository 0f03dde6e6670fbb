"""Where the conversations are: the tracker store's database, as Rasa's endpoints name it."""
from __future__ import annotations


from sqlalchemy.engine import URL, Engine

from bot.config import PROJECT_ROOT, settings
from bot.db import engine_for

LOCAL_TRACKERS = PROJECT_ROOT / "var" / "trackers.db"  # endpoints.yml's `db`, from the project folder


def tracker_url() -> str:
    """`PREPAGO_TRACKER_DB_URL`, else the PREPAGO_TRACKER_DB_* parts deploy/endpoints.yml uses, else the local file."""
    c = settings()
    if c.tracker_db_url:
        return c.tracker_db_url
    if c.tracker_db_host:
        return URL.create("postgresql", username=c.tracker_db_user, password=c.tracker_db_password,
                          host=c.tracker_db_host, port=c.tracker_db_port,
                          database=c.tracker_db_name).render_as_string(hide_password=False)
    return f"sqlite:///{LOCAL_TRACKERS}"


def tracker_engine() -> Engine:
    return engine_for(tracker_url())
