"""The Rasa server entry point's changes keep Rasa's behaviour."""
import sqlite3

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from sqlalchemy import create_engine, text

from tools import rasa_server

VALID = [{"events": [], "responses": [{"text": "hola", "buttons": []}]},
         {"events": [{"event": "slot", "name": "last_query", "value": None}], "responses": []}]
INVALID = [{"events": "nope"}, {"events": [{"no_event_key": 1}]}, {"responses": "x"}]


@pytest.mark.parametrize("result", VALID)
def test_valid_action_replies_pass_like_jsonschema_validate(result):
    jsonschema.validate(result, RemoteAction.action_response_format_spec())
    assert rasa_server.validate_action_result(None, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_action_replies_fail_like_jsonschema_validate(result):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        rasa_server.validate_action_result(None, result)


def test_sqlite_connections_use_wal(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'trackers.db'}")
    from sqlalchemy import event

    event.listen(engine, "connect", rasa_server._sqlite_wal)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    assert isinstance(engine.raw_connection().connection, sqlite3.Connection)


def test_cached_event_lookup_resolves_like_rasa():
    from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered

    resolve = rasa_server._cached_event_classes(Event.resolve_by_type)
    for cls in (ActionExecuted, SessionStarted, SlotSet, UserUttered):
        assert resolve(cls.type_name) is cls is Event.resolve_by_type(cls.type_name)
        assert resolve(cls.type_name) is cls  # from the cache
    assert resolve("no_such_event", default=SlotSet) is SlotSet
    assert resolve("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        resolve("no_such_event")
