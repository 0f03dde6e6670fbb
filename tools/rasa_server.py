"""Entry point of the Rasa server process: `python -m tools.rasa_server run ...`.

It is `rasa` with three measured changes (py-spy profiles, benchmarks/NOTES.md)
and two for replicas (4, 5):

1. `RemoteAction` checks every action-server reply with `jsonschema.validate()`,
   which first re-validates the schema itself against the Draft 2020-12
   meta-schema; with jsonschema 4.17 that was half of the CPU time of a reply
   that runs a custom action. We validate against the same schema with a
   validator built once: same checks, same errors.
2. The default SQLite tracker store commits twice per message in rollback-
   journal mode, each with an fsync. In WAL mode with synchronous=NORMAL a
   commit survives a crash of the process; only a power cut can lose the last
   turns. PostgreSQL is what production uses.
3. Reading a conversation deserialises each stored event, and
   `Event.resolve_by_type` found each event's class by walking every subclass
   of `Event`, for every event: 7.5% of the Rasa process's CPU under load.
   The class of a type name never changes once it is found, so it is looked up
   once per name (unknown names still go to Rasa's own lookup and its errors).
4. A message that carries the client's message id and is already in the
   conversation is answered from the stored turn, not processed again
   (`tools/exactly_once.py`): a retry after a replica died never answers twice.
5. With a model server in the endpoints (console/models.py), Rasa loads only what
   the server sends; a replica that starts while the server is unreachable
   would serve without a model until its next pull. It loads its `--model`
   file instead, with that file's ETag as the fingerprint, and keeps polling:
   the next answer is 304 if that is the live model, the live model if not.
"""
from __future__ import annotations

import functools
import logging
import sqlite3
import sys
from pathlib import Path

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.config import ConfigError, settings
from tools.exactly_once import idempotent
from training.registry import etag_of, sha256_of


@functools.lru_cache(maxsize=1)
def _action_response_validator():
    from rasa.core.actions.action import RemoteAction  # Rasa inside functions: see install()

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, not per reply
    return cls(schema)


def validate_action_result(self, result: dict) -> bool:
    """Drop-in for RemoteAction._validate_action_result (rasa 3.6.21)."""
    from rasa.shared.constants import DOCS_BASE_URL  # Rasa inside functions: see install()

    try:
        _action_response_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


def _sqlite_wal(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _cached_event_classes(resolve):
    found: dict = {}

    def resolve_by_type(type_name, default=None):
        cls = found.get(type_name)
        if cls is None:
            cls = resolve(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    return resolve_by_type


def _model_server_or_disk(load_from_server, model_path):
    async def load(agent, model_server):
        agent = await load_from_server(agent, model_server)
        if agent.processor is None and model_path:
            logging.getLogger(__name__).warning("model server %s gave no model: loading %s", model_server.url,
                                                model_path)
            agent.load_model(model_path, fingerprint=etag_of(sha256_of(Path(model_path))))
        return agent

    return load


def _argument(name: str):
    args = sys.argv
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def install() -> None:
    # Rasa is imported here, not at the top: the patches must be in place before
    # `rasa.__main__` imports the modules that copy these names (main below).
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import Event

    RemoteAction._validate_action_result = validate_action_result
    event.listen(Engine, "connect", _sqlite_wal)
    Event.resolve_by_type = staticmethod(_cached_event_classes(Event.resolve_by_type))
    MessageProcessor.handle_message = idempotent(MessageProcessor.handle_message)
    import rasa.core.agent

    rasa.core.agent.load_from_server = _model_server_or_disk(rasa.core.agent.load_from_server, _argument("--model"))


def main() -> None:
    if "run" in sys.argv:
        try:  # never an open API or an open action server; every setting valid before Rasa loads
            settings().require("rasa_api_token", "action_token")
        except ConfigError as exc:
            raise SystemExit(f"Configuración: {exc}") from None
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    # `--auth-token` from the environment: a token on the command line is
    # readable by every local user (`ps`); this list is only in our memory.
    token = settings().rasa_api_token
    if token and "run" in sys.argv and not any(a.startswith("--auth-token") for a in sys.argv):
        sys.argv.append(f"--auth-token={token}")  # "=": tokens may start with "-"
    rasa_main()


if __name__ == "__main__":
    main()
