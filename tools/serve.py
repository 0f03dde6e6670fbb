"""Start the action server and the Rasa server, wait until both answer, stop them cleanly.

Used by `bot serve` (the README's run command) and by the tests, so the
tested start-up is the one customers get.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from bot.config import PROJECT_ROOT

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # TensorFlow's C++ start-up chatter
    "PYTHONWARNINGS": "ignore",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    # Rasa reads these: small models, two cores; more threads only contend.
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    # Rasa's telemetry and error reports would try to reach the internet.
    "RASA_TELEMETRY_ENABLED": "false",
}


# Read by credentials.yml; Rasa refuses unset variables, and an empty value
# leaves that messaging channel closed (every webhook gets 403).
CHANNEL_ENV_VARS = (
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER", "PREPAGO_WHATSAPP_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET",
    "MESSENGER_PAGE_ACCESS_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN",
    # Empty: one process. Set by `bot cluster`: socket.io emits reach every replica.
    "PREPAGO_SOCKETIO_REDIS_URL", "PREPAGO_SOCKETIO_REDIS_CHANNEL",
)


READY_LABELS = {
    "actions": "servidor de acciones listo",
    "rasa": "Rasa listo (modelo cargado)",
    "web": "página demo lista",
    "console": "consola de Soporte lista",
    "haproxy": "HAProxy listo (balanceador)",
}


ENDPOINTS_TEMPLATE = """\
# Written by tools.serve.local_endpoints: actions on loopback, conversations in SQLite.
action_endpoint:
  url: "http://127.0.0.1:{actions_port}/webhook"
  # The action server answers only requests that carry this secret (actions/server.py).
  headers:
    X-Prepago-Action-Token: ${{PREPAGO_ACTION_TOKEN}}  # unquoted: Rasa expands it
  # Our actions never read the domain: Rasa stops serialising it into every call.
  enable_selective_domain: true

tracker_store:
  type: stores.tracker_store.LeanSQLTrackerStore
  dialect: "sqlite"
  db: "{trackers_db}"
"""


def local_endpoints(path: Path, actions_port: int, trackers_db: Path) -> Path:
    """An endpoints.yml for a stack on this machine (tests, benchmarks)."""
    path.write_text(ENDPOINTS_TEMPLATE.format(actions_port=actions_port, trackers_db=trackers_db))
    return path


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    web: Optional[int] = 8080  # the demo page with the chat widget; None: not started
    console: Optional[int] = 8090  # the staff console (handoff/console.py); None: not started
    alerts: bool = True  # the alert worker (alerts/worker.py): no port, nothing listens


@dataclass
class Stack:
    ports: Ports
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def web_url(self) -> str:
        return f"http://localhost:{self.ports.web}"

    @property
    def console_url(self) -> str:
        return f"http://localhost:{self.ports.console}"

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _wait_for(url: str, process: subprocess.Popen, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def child_env(env: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The environment of every server we start; refuses to start one with an open API."""
    merged = {**dict.fromkeys(CHANNEL_ENV_VARS, ""), **os.environ, **QUIET_ENV, **(env or {})}
    for secret in ("RASA_API_TOKEN", "PREPAGO_ACTION_TOKEN"):
        if not merged.get(secret):
            raise RuntimeError(f"{secret} must be set: neither Rasa's API nor the action server is ever left open.")
    merged["SANIC_HOST"] = "127.0.0.1"  # rasa-sdk's action server binds here
    return merged


def rasa_command(model: Path, port: int, endpoints: Path, credentials: Path) -> list[str]:
    return [
        sys.executable, "-m", "tools.rasa_server", "run", "--model", str(model), "--port", str(port),
        # The API token reaches Rasa through the environment (tools.rasa_server), never
        # the command line, which every local user can read with `ps`.
        "--interface", "127.0.0.1", "--enable-api",
        # No --cors: no browser calls Rasa's HTTP routes (the widget uses socket.io, which checks its own origins).
        "--endpoints", str(endpoints), "--credentials", str(credentials),
    ]


def actions_command(port: int) -> list[str]:
    return [sys.executable, "-m", "actions.server", "--port", str(port)]


def launch(stack: "Stack", name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
    log = open(os.open(stack.log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")
    stack.processes[name] = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, umask=0o077,  # the tracker store and logs they create are private
    )
    return stack.processes[name]


def wait_ready(stack: "Stack", checks: dict[str, str], timeout: float, progress=None) -> None:
    deadline = started = time.monotonic()
    deadline += timeout
    for name, url in checks.items():
        if not _wait_for(url, stack.processes[name], deadline):
            raise RuntimeError(f"{name} did not start; last log lines:\n{stack.log_tail(name)}")
        if progress:
            label = READY_LABELS.get(name) or READY_LABELS.get(name.rstrip("0123456789"), name)
            progress(f"  ✔ {label} ({time.monotonic() - started:.1f} s)")


def stop_all(stack: "Stack") -> None:
    for process in stack.processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in stack.processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def exit_on_signals() -> None:
    """Children run in their own sessions: turn SIGTERM/SIGHUP into a normal exit so
    the `finally` stops them. Once only: a second signal (`timeout` and `pkill`
    both sending one) must not interrupt the stopping and orphan the rest."""
    def stop(*_):
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        sys.exit(0)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


def _private(folder: Path) -> None:
    """Only this user may read the folder: databases, logs (a PIN hash, tokens in a trace)."""
    folder.chmod(0o700)
    for path in folder.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)


@contextmanager
def running_stack(
    model: Path,
    ports: Optional[Ports] = None,
    log_dir: Optional[Path] = None,
    env: Optional[dict[str, str]] = None,
    endpoints: Path = PROJECT_ROOT / "endpoints.yml",
    credentials: Path = PROJECT_ROOT / "credentials.yml",
    timeout: float = 180.0,
    progress=None,
) -> Iterator[Stack]:
    """Run both servers on loopback for the duration of the block.

    `endpoints` must point its action_endpoint at `ports.actions`.
    """
    stack = Stack(ports or Ports(), log_dir or PROJECT_ROOT / "var" / "logs")
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    _private(stack.log_dir.parent)
    environment = child_env(env)
    commands = {
        "actions": actions_command(stack.ports.actions),
        "rasa": rasa_command(model, stack.ports.rasa, endpoints, credentials),
    }
    checks = {
        "actions": f"http://127.0.0.1:{stack.ports.actions}/health",
        "rasa": f"{stack.rasa_url}/webhooks/prepago_socketio/",
    }
    if stack.ports.web:
        commands["web"] = webdemo_command(stack.ports.web, stack.rasa_url)
        checks["web"] = f"http://127.0.0.1:{stack.ports.web}/config.js"
    if stack.ports.console:
        commands["console"] = console_command(stack.ports.console, stack.rasa_url)
        checks["console"] = f"http://127.0.0.1:{stack.ports.console}/health"
    if stack.ports.alerts:
        commands["alerts"] = alerts_command()
    try:
        for name, command in commands.items():
            launch(stack, name, command, environment)
        wait_ready(stack, checks, timeout, progress)
        yield stack
    finally:
        stop_all(stack)


def webdemo_command(port: int, rasa_url: str) -> list[str]:
    return [sys.executable, "-m", "tools.webdemo", "--port", str(port), "--rasa-url", rasa_url]


def alerts_command() -> list[str]:
    return [sys.executable, "-m", "alerts.worker"]


def console_command(port: int, rasa_url: str) -> list[str]:
    return [sys.executable, "-m", "handoff.console", "--port", str(port), "--rasa-url", rasa_url]


def console_banner(stack: "Stack") -> str:
    """Where staff answer handed-over conversations, and the demo agent's sign-in."""
    if not stack.ports.console:
        return ""
    password = os.environ.get("PREPAGO_DEMO_STAFF_PASSWORD")
    login = f" (usuario «demo», contraseña {password})" if password else ""
    alerts = ("  Avisos de saldo:         en marcha (prueba «avísame cuando mi saldo baje de $150»)\n"
              if stack.processes.get("alerts") else "")
    return (f"  Consola de Soporte:      {stack.console_url}{login}\n"
            f"  Insights:                {stack.console_url}/insights\n" + alerts)


def serve(model: Path = PROJECT_ROOT / "models" / "prepago.tar.gz") -> int:
    from bot.db import default_engine
    from bot.identity import issue_token
    from bot.config import settings
    from tools.seed import create_schema, ensure_demo_staff

    started = time.monotonic()
    create_schema(default_engine())  # tables added since the store was created (support cases, staff)
    ensure_demo_staff(default_engine())
    print("==> Iniciando el servidor de acciones, Rasa y la página demo…", flush=True)
    return run_until_stopped(
        running_stack(model, progress=lambda line: print(line, flush=True)),
        lambda stack: (
            f"\n✔ Listo en {time.monotonic() - started:.1f} s.\n"
            f"  Chatea en el navegador:  {stack.web_url}  (botón «Entrar como cliente demo 100100»)\n"
            f"  Chatea en la terminal:   .venv/bin/bot chat --account 100100\n"
            f"  (o sin sesión:           .venv/bin/bot chat)\n"
            + console_banner(stack) +
            f"  API segura:              POST {stack.rasa_url}/webhooks/prepago/webhook\n"
            f"  Identidad demo:          cuenta 100100 (también 200200); token:\n"
            f"    {issue_token(settings(), '100100')}\n"
            f"  Registros:               {stack.log_dir} (la instalación y el entrenamiento: setup.log)\n"
            "  Ctrl+C para detener.\n"),
    )


def run_until_stopped(running, banner) -> int:
    """The run commands' loop: start, print where to chat, wait; any child dying ends it.

    `running` is a not-yet-entered context manager yielding a Stack; `banner(stack)` the text to print.
    """
    exit_on_signals()
    try:
        with running as stack:
            print(banner(stack), flush=True)
            while all(p.poll() is None for p in stack.processes.values()):
                time.sleep(0.5)
            dead = [n for n, p in stack.processes.items() if p.poll() is not None]
            print(f"El proceso {', '.join(dead)} terminó inesperadamente:\n{stack.log_tail(dead[0])}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\nDetenido.")
        return 0
    except RuntimeError as exc:
        print(f"No se pudo iniciar: {exc}", file=sys.stderr)
        return 1
