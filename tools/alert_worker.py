"""Start an alert worker (`python -m tools.alert_worker`; `make run` starts one).

Builds the messaging channels' senders exactly as Rasa builds them from
credentials.yml's variables, keeps those whose credentials are set, and runs
the worker (alerts/worker.py) until SIGTERM or SIGINT.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from datetime import timedelta

import migrations
from alerts.worker import Worker
from bot.config import settings
from bot.db import default_engine
from channels.messenger import SecureMessengerInput
from channels.telegram import SecureTelegramInput
from channels.whatsapp import TwilioWhatsAppInput
from tools.cli import configure

# Each channel's sender and the settings it needs, under the keys credentials.yml gives them.
CHANNELS = {
    "whatsapp": (TwilioWhatsAppInput, {"account_sid": "twilio_account_sid", "auth_token": "twilio_auth_token",
                                       "whatsapp_number": "twilio_whatsapp_number"}),
    "telegram": (SecureTelegramInput, {"access_token": "telegram_bot_token"}),
    "messenger": (SecureMessengerInput, {"page-access-token": "messenger_page_access_token"}),
}


def configured_senders() -> dict:
    """The senders of the channels whose credentials are all set."""
    config, out = settings(), {}
    for channel, (input_class, fields) in CHANNELS.items():
        credentials = {key: getattr(config, field) for key, field in fields.items()}
        if all(credentials.values()):
            out[channel] = input_class.from_credentials(credentials)
    return out


def main() -> None:
    config = configure()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description="Avisos de saldo: revisa la base de cuentas y envía los avisos")
    parser.add_argument("--idle", type=float, default=config.alerts_idle_seconds,
                        help="seconds between rounds when there is nothing to send")
    args = parser.parse_args()
    migrations.upgrade(default_engine())
    worker = Worker(configured_senders(),
                    lease=timedelta(seconds=config.alerts_lease_seconds), hold_after_claim=config.alerts_hold_after_claim)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await worker.run(args.idle, stop)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
