"""Every setting the project reads, in one typed object (pydantic's `BaseSettings`).

Each field names its environment variable, its default (the local demo's) and what it
does; the README's configuration table is generated from here (`python -m
tools.settings_table`), and a test fails when they differ. Variables that only Rasa
reads (through `${…}` in endpoints.yml and credentials.yml) are fields too, so they are
validated and documented in the same place.

`settings()` reads the environment when it changes (tests and `bot cluster` set
variables at run time) and otherwise returns the object it built, so a hot path may
call it per message. Secrets have no default: `make run` generates them into the
git-ignored `.env` (python-dotenv loads it, `tools.cli.load_env_file`).
"""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Optional

from pydantic import BaseSettings, Field, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'prepago.db'}"
# The support team's time zone: its working days, reports and the demo accounts' zone
# (each account keeps its own in `accounts.timezone`).
BUSINESS_TIMEZONE = "America/Mexico_City"


class ConfigError(RuntimeError):
    """A required setting is missing or invalid; the message is in Spanish and names every one."""


def _env(name: str, default=None, about: str = "", secret: bool = False, rasa: bool = False):
    return Field(default, env=name, description=about, secret=secret, rasa=rasa)


class Settings(BaseSettings):
    # --- the account store and the tracker store
    database_url: str = _env("PREPAGO_DATABASE_URL", DEFAULT_DATABASE_URL,
                             "Base de cuentas (SQLAlchemy): SQLite local o PostgreSQL en producción.")
    tracker_db_url: Optional[str] = _env("PREPAGO_TRACKER_DB_URL", None,
                                         "URL del *tracker store* que leen Insights y `bot purge` (si no, las partes de abajo).")
    tracker_db_host: Optional[str] = _env("PREPAGO_TRACKER_DB_HOST", None, "Servidor PostgreSQL de las conversaciones.",
                                          rasa=True)
    tracker_db_port: int = _env("PREPAGO_TRACKER_DB_PORT", 5432, "Puerto de ese servidor.", rasa=True)
    tracker_db_name: Optional[str] = _env("PREPAGO_TRACKER_DB_NAME", None, "Base de las conversaciones.", rasa=True)
    tracker_db_user: Optional[str] = _env("PREPAGO_TRACKER_DB_USER", None, "Usuario de esa base.", rasa=True)
    tracker_db_password: Optional[str] = _env("PREPAGO_TRACKER_DB_PASSWORD", None, "Contraseña de esa base.",
                                              secret=True, rasa=True)
    tracker_pool_size: Optional[int] = _env("SQL_POOL_SIZE", None, "Conexiones por réplica al *tracker store* (Rasa).")
    tracker_max_overflow: Optional[int] = _env("SQL_MAX_OVERFLOW", None, "Conexiones extra en picos (Rasa).")
    redis_url: Optional[str] = _env("PREPAGO_REDIS_URL", None,
                                    "Redis de los candados y los límites de tasa (varias réplicas); vacío: en memoria.",
                                    rasa=True)
    lock_prefix: str = _env("PREPAGO_LOCK_PREFIX", "prepago", "Prefijo de las llaves en Redis.", rasa=True)
    socketio_redis_url: Optional[str] = _env("PREPAGO_SOCKETIO_REDIS_URL", None,
                                             "Redis para que un mensaje del widget llegue desde cualquier réplica.",
                                             rasa=True)
    socketio_redis_channel: Optional[str] = _env("PREPAGO_SOCKETIO_REDIS_CHANNEL", None,
                                                 "Canal de Redis de socket.io.", rasa=True)
    # --- identity and secrets
    jwt_secret: Optional[str] = _env("PREPAGO_JWT_SECRET", None, "Firma de los tokens de sesión (≥ 32 caracteres).",
                                     secret=True)
    jwt_issuer: str = _env("PREPAGO_JWT_ISSUER", "prepago-demo", "Emisor esperado de los tokens.")
    jwt_audience: str = _env("PREPAGO_JWT_AUDIENCE", "prepago-assistant", "Audiencia esperada de los tokens.")
    pin_pepper: Optional[str] = _env("PREPAGO_PIN_PEPPER", None, "Pimienta de los NIP de vinculación (≥ 32 caracteres).",
                                     secret=True)
    rasa_api_token: Optional[str] = _env("RASA_API_TOKEN", None,
                                         "Abre la API de Rasa; la consola lo usa para el relevo y los modelos.",
                                         secret=True, rasa=True)
    action_token: Optional[str] = _env("PREPAGO_ACTION_TOKEN", None, "Rasa → servidor de acciones.", secret=True,
                                       rasa=True)
    actions_url: Optional[str] = _env("PREPAGO_ACTIONS_URL", None, "URL del servidor de acciones (producción).",
                                      rasa=True)
    trusted_proxies: str = _env("PREPAGO_TRUSTED_PROXIES", "",
                                "Redes (CIDR) cuyo `X-Forwarded-For` se cree, separadas por comas.")
    portal_url: str = _env("PREPAGO_PORTAL_URL", "https://office.ooma.com.mx", "Administrador de Ooma Office.")
    # --- rate limits
    messages_per_minute: int = _env("PREPAGO_MESSAGES_PER_MINUTE", 30, "Mensajes por minuto por cliente.")
    client_messages_per_minute: int = _env("PREPAGO_CLIENT_MESSAGES_PER_MINUTE", 120,
                                           "Mensajes por minuto por dirección.")
    anonymous_cases_per_hour: int = _env("PREPAGO_ANONYMOUS_CASES_PER_HOUR", 3, "Casos sin sesión por dirección y hora.")
    tokens_per_minute: int = _env("PREPAGO_TOKENS_PER_MINUTE", 20, "Tokens demo por minuto (página demo).")
    console_logins_per_minute: int = _env("PREPAGO_CONSOLE_LOGINS_PER_MINUTE", 20,
                                          "Intentos de inicio de sesión por minuto en la consola.")
    # --- the console, the demo and the help desk
    console_secure_cookie: bool = _env("PREPAGO_CONSOLE_SECURE_COOKIE", False, "Cookie `Secure` (detrás de HTTPS).")
    console_hosts: str = _env("PREPAGO_CONSOLE_HOSTS", "", "Nombres públicos de la consola, separados por comas.")
    demo_staff_password: Optional[str] = _env("PREPAGO_DEMO_STAFF_PASSWORD", None,
                                              "Contraseña del agente demo (la genera `make run`).", secret=True)
    support_hours: str = _env("PREPAGO_SUPPORT_HOURS", "lun-vie 09:00-18:00",
                              "Horario de Soporte, p. ej. «lun-vie 09:00-18:00; sáb 10:00-14:00».")
    desk: str = _env("PREPAGO_DESK", "console", "Dónde atiende Soporte: «console» o «chatwoot».")
    desk_sync_seconds: float = _env("PREPAGO_DESK_SYNC_SECONDS", 2.0, "Cada cuánto se copia a Chatwoot.")
    chatwoot_url: Optional[str] = _env("CHATWOOT_URL", None, "Chatwoot: URL.")
    chatwoot_account_id: Optional[str] = _env("CHATWOOT_ACCOUNT_ID", None, "Chatwoot: cuenta.")
    chatwoot_inbox_id: Optional[int] = _env("CHATWOOT_INBOX_ID", None, "Chatwoot: bandeja.")
    chatwoot_api_token: Optional[str] = _env("CHATWOOT_API_TOKEN", None, "Chatwoot: token de API.", secret=True)
    chatwoot_webhook_secret: Optional[str] = _env("CHATWOOT_WEBHOOK_SECRET", None,
                                                  "Chatwoot: secreto del *webhook* (≥ 32 caracteres).", secret=True)
    # --- messaging channels (credentials.yml reads the same variables)
    twilio_account_sid: Optional[str] = _env("TWILIO_ACCOUNT_SID", None, "WhatsApp (Twilio): cuenta.", rasa=True)
    twilio_auth_token: Optional[str] = _env("TWILIO_AUTH_TOKEN", None, "WhatsApp (Twilio): token.", secret=True,
                                            rasa=True)
    twilio_whatsapp_number: Optional[str] = _env("TWILIO_WHATSAPP_NUMBER", None, "WhatsApp (Twilio): número.",
                                                 rasa=True)
    whatsapp_webhook_url: Optional[str] = _env("PREPAGO_WHATSAPP_WEBHOOK_URL", None,
                                               "URL pública del *webhook* (firma de Twilio).", rasa=True)
    twilio_api_base: Optional[str] = _env("PREPAGO_TWILIO_API_BASE", None, "Solo pruebas: otra API de Twilio.")
    telegram_bot_token: Optional[str] = _env("TELEGRAM_BOT_TOKEN", None, "Telegram: token del bot.", secret=True,
                                             rasa=True)
    telegram_webhook_secret: Optional[str] = _env("TELEGRAM_WEBHOOK_SECRET", None, "Telegram: secreto del *webhook*.",
                                                  secret=True, rasa=True)
    telegram_api_base: Optional[str] = _env("PREPAGO_TELEGRAM_API_BASE", None, "Solo pruebas: otra API de Telegram.")
    messenger_page_access_token: Optional[str] = _env("MESSENGER_PAGE_ACCESS_TOKEN", None,
                                                      "Messenger: token de la página.", secret=True, rasa=True)
    messenger_app_secret: Optional[str] = _env("MESSENGER_APP_SECRET", None, "Messenger: secreto de la app.",
                                               secret=True, rasa=True)
    messenger_verify_token: Optional[str] = _env("MESSENGER_VERIFY_TOKEN", None, "Messenger: token de verificación.",
                                                 secret=True, rasa=True)
    graph_api_base: Optional[str] = _env("PREPAGO_GRAPH_API_BASE", None, "Solo pruebas: otra API de Meta.")
    # --- alerts
    alert_quiet_hours: str = _env("PREPAGO_ALERT_QUIET_HOURS", "22:00-08:00", "Horas sin avisos (HH:MM-HH:MM).")
    alerts_idle_seconds: float = _env("PREPAGO_ALERTS_IDLE_SECONDS", 1.0, "Pausa del trabajador sin avisos pendientes.")
    alerts_lease_seconds: float = _env("PREPAGO_ALERTS_LEASE_SECONDS", 60.0, "Cuánto dura el reclamo de un aviso.")
    alerts_hold_after_claim: float = _env("PREPAGO_ALERTS_HOLD_AFTER_CLAIM", 0.0, "Solo pruebas de fallas.")
    wa_template_low_balance: Optional[str] = _env("PREPAGO_WA_TEMPLATE_LOW_BALANCE", None,
                                                  "Plantilla aprobada de WhatsApp: saldo bajo.")
    wa_template_recharge_failed: Optional[str] = _env("PREPAGO_WA_TEMPLATE_RECHARGE_FAILED", None,
                                                      "Plantilla aprobada de WhatsApp: recarga fallida.")
    wa_template_card_expiring: Optional[str] = _env("PREPAGO_WA_TEMPLATE_CARD_EXPIRING", None,
                                                    "Plantilla aprobada de WhatsApp: tarjeta por vencer.")
    # --- payments from the chat
    add_funds_amounts: str = _env("PREPAGO_ADD_FUNDS_AMOUNTS", "200,500,1000,2000", "Montos del menú «Agregar Fondos».")
    add_funds_daily_limit: Decimal = _env("PREPAGO_ADD_FUNDS_DAILY_LIMIT", Decimal("5000"),
                                          "Máximo por cuenta y día desde el chat.")
    money_roles: str = _env("PREPAGO_MONEY_ROLES", "admin,billing", "Roles del token que pueden mover dinero.")
    stripe_api_base: str = _env("PREPAGO_STRIPE_API_BASE", "http://127.0.0.1:12111",
                                "API del proveedor de pagos (la demo usa su sustituto local).")
    stripe_secret_key: str = _env("STRIPE_SECRET_KEY", "sk_test_standin", "Llave de Stripe.", secret=True)
    stripe_timeout: float = _env("PREPAGO_STRIPE_TIMEOUT", 10.0, "Segundos por petición al proveedor.")
    step_up_minutes: int = _env("PREPAGO_STEP_UP_MINUTES", 5, "Validez del NIP para mover dinero en mensajería.")
    payment_proposal_minutes: int = _env("PREPAGO_PAYMENT_PROPOSAL_MINUTES", 10, "Validez de una confirmación.")
    card_link_minutes: int = _env("PREPAGO_CARD_LINK_MINUTES", 30, "Validez del enlace para cambiar la tarjeta.")
    auto_recharge_min_threshold: Decimal = _env("PREPAGO_AUTO_RECHARGE_MIN_THRESHOLD", Decimal("100"),
                                                "Umbral mínimo de la recarga automática.")
    auto_recharge_max_threshold: Decimal = _env("PREPAGO_AUTO_RECHARGE_MAX_THRESHOLD", Decimal("1000"),
                                                "Umbral máximo de la recarga automática.")
    # --- models
    model_registry: Path = _env("PREPAGO_MODEL_REGISTRY", PROJECT_ROOT / "var" / "models",
                                "Carpeta de las versiones del modelo.")
    model_server_url: Optional[str] = _env("PREPAGO_MODEL_SERVER_URL", None,
                                           "Servidor de modelos que consultan las réplicas.", rasa=True)
    model_pull_seconds: int = _env("PREPAGO_MODEL_PULL_SECONDS", 10, "Cada cuánto lo consultan.", rasa=True)
    retrain_cv_folds: int = _env("PREPAGO_RETRAIN_CV_FOLDS", 5, "`bot retrain`: pliegues de validación cruzada.")
    retrain_cv_repeats: int = _env("PREPAGO_RETRAIN_CV_REPEATS", 1, "`bot retrain`: repeticiones.")
    retrain_tolerance: float = _env("PREPAGO_RETRAIN_TOLERANCE", 0.005, "`bot retrain`: pérdida tolerada.")
    # --- `bot cluster`
    cluster_database_url: Optional[str] = _env("PREPAGO_CLUSTER_DATABASE_URL", None, "`bot cluster`: PostgreSQL.")
    cluster_redis_url: Optional[str] = _env("PREPAGO_CLUSTER_REDIS_URL", None, "`bot cluster`: Redis.")
    sanic_host: str = _env("SANIC_HOST", "127.0.0.1", "Interfaz del servidor de acciones.")

    class Config:
        case_sensitive = True
        allow_mutation = False  # one object is shared until the environment changes

        @classmethod
        def customise_sources(cls, init_settings, env_settings, file_secret_settings):
            # settings() reads the environment itself (an empty variable counts as unset).
            return (init_settings,)

    def require_pin_pepper(self) -> str:
        return _secret("PREPAGO_PIN_PEPPER", self.pin_pepper)

    def require_jwt_secret(self) -> str:
        return _secret("PREPAGO_JWT_SECRET", self.jwt_secret)

    def require(self, *fields: str) -> None:
        """One Spanish error naming every required variable that is not set."""
        missing = [variable(name) for name in fields if not getattr(self, name)]
        if missing:
            raise ConfigError("Faltan estas variables de entorno: " + ", ".join(missing)
                              + " (`make run` genera las secretas en .env).")

    def channel_configured(self, *fields: str) -> bool:
        return all(getattr(self, name) for name in fields)


def variable(field: str) -> str:
    """The environment variable of a field."""
    return Settings.__fields__[field].field_info.extra["env"]


NAMES = tuple(variable(name) for name in Settings.__fields__)
# The environment's raw mapping: comparing it costs ≈ 4 µs a call against ≈ 90 µs through
# os.environ's str conversions, so `settings()` can sit on the per-message path.
_RAW, _RAW_NAMES = getattr(os.environ, "_data", None), tuple(os.fsencode(n) for n in NAMES)


def _secret(name: str, value: Optional[str]) -> str:
    if not value or len(value) < 32:
        raise ConfigError(f"{name} debe ser una cadena aleatoria de al menos 32 caracteres "
                          "(`make run` genera una en .env).")
    return value


_built: tuple[tuple, Optional[Settings]] = ((), None)


def settings() -> Settings:
    """The settings for the environment as it is now (built again only when it changed)."""
    global _built
    key = tuple(map(_RAW.get, _RAW_NAMES)) if _RAW is not None else tuple(map(os.environ.get, NAMES))
    if _built[0] != key or _built[1] is None:
        try:
            # Empty variables count as unset, as they did everywhere before.
            _built = (key, Settings(**{f: os.environ[variable(f)] for f in Settings.__fields__
                                       if os.environ.get(variable(f))}))
        except ValidationError as exc:
            wrong = ", ".join(f"{variable(str(e['loc'][0]))} ({e['msg']})" for e in exc.errors())
            raise ConfigError(f"Variables de entorno inválidas: {wrong}.") from None
    return _built[1]
