"""Where the conversations are: the tracker store's database, as Rasa's endpoints name it."""
from __future__ import annotations

import os

from sqlalchemy.engine import URL, Engine

from bot.config import PROJECT_ROOT
from bot.db import engine_for

LOCAL_TRACKERS = PROJECT_ROOT / "var" / "trackers.db"  # endpoints.yml's `db`, from the project folder


def tracker_url() -> str:
    """`PREPAGO_TRACKER_DB_URL`, else the PREPAGO_TRACKER_DB_* parts deploy/endpoints.yml uses, else the local file."""
    if os.environ.get("PREPAGO_TRACKER_DB_URL"):
        return os.environ["PREPAGO_TRACKER_DB_URL"]
    if os.environ.get("PREPAGO_TRACKER_DB_HOST"):
        return URL.create("postgresql", username=os.environ.get("PREPAGO_TRACKER_DB_USER"),
                          password=os.environ.get("PREPAGO_TRACKER_DB_PASSWORD") or None,
                          host=os.environ["PREPAGO_TRACKER_DB_HOST"],
                          port=int(os.environ.get("PREPAGO_TRACKER_DB_PORT") or 5432),
                          database=os.environ.get("PREPAGO_TRACKER_DB_NAME")).render_as_string(hide_password=False)
    return f"sqlite:///{LOCAL_TRACKERS}"


def tracker_engine() -> Engine:
    return engine_for(tracker_url())
