"""Start the action server and the Rasa server, wait until both answer, keep them running, stop them cleanly.

Used by `bot serve` (the README's run command), `bot cluster` and the tests,
so the tested start-up, and the tested restart of a process that died
(`Supervisor`), are the ones customers get.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import migrations
from bot.config import PROJECT_ROOT, settings
from bot.db import default_engine
from bot.identity import issue_token
from payments.settings import DEFAULT_API_BASE
from tools.seed import ensure_demo_staff

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
    "stripe": "pagos de prueba listos (stand-in local de Stripe: nada se cobra de verdad)",
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
    console: Optional[int] = 8090  # the staff console (console/app.py); None: not started
    alerts: bool = True  # the alert worker (alerts/worker.py): no port, nothing listens
    # The local Stripe stand-in (tools/stripe_standin.py) `make run` charges: None, not started
    # (tests run it inside tests/fake_providers.py).
    stripe: Optional[int] = None


@dataclass
class Stack:
    ports: Ports
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # name -> (command, environment, health URL or None): how to start each process again.
    commands: dict[str, tuple[list[str], dict[str, str], Optional[str]]] = field(default_factory=dict)

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


def launch(stack: "Stack", name: str, command: list[str], env: dict[str, str], append: bool = False
           ) -> subprocess.Popen:
    """Start one process, its output in log_dir/NAME.log (appended to on a restart: the cause of death stays)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    log = open(os.open(stack.log_dir / f"{name}.log", flags, 0o600), "a" if append else "w")
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
    if stack.ports.stripe:
        commands = {"stripe": [sys.executable, "-m", "tools.stripe_standin", "--port", str(stack.ports.stripe)],
                    **commands}
        checks = {"stripe": f"http://127.0.0.1:{stack.ports.stripe}/health", **checks}
    stack.commands = {name: (command, environment, checks.get(name)) for name, command in commands.items()}
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
    return [sys.executable, "-m", "tools.alert_worker"]


def console_command(port: int, rasa_url: str) -> list[str]:
    return [sys.executable, "-m", "tools.console", "--port", str(port), "--rasa-url", rasa_url]


def console_banner(stack: "Stack") -> str:
    """Where staff answer handed-over conversations, and the demo agent's sign-in."""
    if not stack.ports.console:
        return ""
    password = settings().demo_staff_password
    login = f" (usuario «demo», contraseña {password})" if password else ""
    alerts = ("  Avisos de saldo:         en marcha (prueba «avísame cuando mi saldo baje de $150»)\n"
              if stack.processes.get("alerts") else "")
    return (f"  Consola de Soporte:      {stack.console_url}{login}\n"
            f"  Insights:                {stack.console_url}/insights\n" + alerts)


def serve(model: Path = PROJECT_ROOT / "models" / "prepago.tar.gz") -> int:
    started = time.monotonic()
    migrations.upgrade(default_engine())  # revisions added since the store was created
    ensure_demo_staff(default_engine())
    print("==> Iniciando el servidor de acciones, Rasa y la página demo…", flush=True)
    ports, env = Ports(), {}
    if settings().stripe_api_base == DEFAULT_API_BASE:  # the demo never reaches a real payment provider
        ports.stripe = 12111
        env["PREPAGO_STRIPE_API_BASE"] = f"http://127.0.0.1:{ports.stripe}"
    return run_until_stopped(
        running_stack(model, ports, env=env, progress=lambda line: print(line, flush=True)),
        lambda stack: (
            f"\n✔ Listo en {time.monotonic() - started:.1f} s.\n"
            f"  Chatea en el navegador:  {stack.web_url}  (botón «Entrar como cliente demo 100100»)\n"
            f"  Chatea en la terminal:   .venv/bin/bot chat --account 100100\n"
            f"  (o sin sesión:           .venv/bin/bot chat)\n"
            + console_banner(stack) +
            (f"  Pagos de prueba:         stand-in local de Stripe en http://127.0.0.1:{stack.ports.stripe} "
             "(nada se cobra de verdad; prueba «recárgale $500 al prepago»)\n" if stack.ports.stripe else "") +
            f"  API segura:              POST {stack.rasa_url}/webhooks/prepago/webhook\n"
            f"  Identidad demo:          cuenta 100100 (también 200200); token:\n"
            f"    {issue_token(settings(), '100100')}\n"
            f"  Registros:               {stack.log_dir} (la instalación y el entrenamiento: setup.log)\n"
            "  Ctrl+C para detener.\n"),
    )


# Seconds before starting a dead process again, growing with each death in a row;
# a process that stayed up for STABLE_AFTER seconds starts the count again.
RESTART_DELAYS = (1, 2, 4, 8, 16, 30)
STABLE_AFTER = 60.0


def _how_it_ended(code: int) -> str:
    return f"señal {-code}" if code < 0 else f"código {code}"


class Supervisor:
    """Keeps every process of a stack running: the survivors go on serving while a
    dead one (a replica, an action server, the console, the alert worker, HAProxy)
    is started again after a growing delay, said in one Spanish line.

    HAProxy stops sending traffic to a dead replica within its health checks
    and takes it back once it answers again, so restarting is all that is left.
    """

    def __init__(self, stack: Stack, say=None, clock=time.monotonic) -> None:
        self.stack, self.clock = stack, clock
        self._say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.said: list[str] = []  # every line said, in order (tests)
        self.deaths: dict[str, int] = {}  # deaths in a row, per process
        self.started = dict.fromkeys(stack.processes, clock())
        self.restart_at: dict[str, float] = {}
        self.restarts: dict[str, int] = {}  # how many times each was started again (operators, tests)
        self._lock = threading.Lock()

    def step(self) -> None:
        """Look at every process once: schedule the newly dead, start those whose delay is over."""
        with self._lock:
            now = self.clock()
            for name, process in list(self.stack.processes.items()):
                if name in self.restart_at:
                    if now >= self.restart_at[name]:
                        del self.restart_at[name]
                        command, env, _ = self.stack.commands[name]
                        launch(self.stack, name, command, env, append=True)
                        self.started[name] = now
                        self.restarts[name] = self.restarts.get(name, 0) + 1
                    continue
                code = process.poll()
                if code is None:
                    continue
                if now - self.started.get(name, now) >= STABLE_AFTER:
                    self.deaths[name] = 0
                deaths = self.deaths[name] = self.deaths.get(name, 0) + 1
                delay = RESTART_DELAYS[min(deaths, len(RESTART_DELAYS)) - 1]
                self.restart_at[name] = now + delay
                self._tell(f"El proceso {name} terminó inesperadamente ({_how_it_ended(code)}); los demás siguen "
                         f"atendiendo y lo reinicio en {delay} s (registro: {self.stack.log_dir / (name + '.log')}).")

    def _tell(self, line: str) -> None:
        self.said.append(line)
        self._say(line)

    def revive(self, name: str) -> None:
        """Start a dead process now, without waiting for its delay (tests that kill one)."""
        with self._lock:
            if name in self.restart_at or self.stack.processes[name].poll() is not None:
                self.restart_at[name] = self.clock()
        self.step()

    def watch(self, stop: threading.Event, interval: float = 0.5) -> None:
        while not stop.wait(interval):
            self.step()


@contextmanager
def supervised(stack: Stack) -> Iterator[Supervisor]:
    """The run commands' supervisor in a background thread (the tests' stacks): stopped before the stack."""
    supervisor = stack.supervisor = Supervisor(stack)
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.watch, args=(stop,), name="supervisor", daemon=True)
    thread.start()
    try:
        yield supervisor
    finally:
        stop.set()
        thread.join(timeout=10)


def run_until_stopped(running, banner) -> int:
    """The run commands' loop: start, print where to chat, then keep everything running until
    Ctrl+C or SIGTERM (`Supervisor`: a process that dies is started again, the others keep serving).

    `running` is a not-yet-entered context manager yielding a Stack; `banner(stack)` the text to print.
    """
    exit_on_signals()
    try:
        with running as stack:
            print(banner(stack), flush=True)
            supervisor = stack.supervisor = Supervisor(stack)
            while True:
                time.sleep(0.5)
                supervisor.step()
    except KeyboardInterrupt:
        print("\nDetenido.")
        return 0
    except RuntimeError as exc:
        print(f"No se pudo iniciar: {exc}", file=sys.stderr)
        return 1
