"""The alert worker: scan for what deserves an alert, claim due alerts, send them, record the outcome.

`make run` starts one; more can run beside it (`python -m tools.alert_worker`,
which builds the senders and passes them in): claims never overlap
(alerts/outbox.py). The channels' own senders deliver (the same classes that
answer the webhooks, built from the same settings), each with its provider's rules: a template on WhatsApp, Meta's
ACCOUNT_UPDATE tag on Messenger, Telegram's flood control respected. A row
is marked sent only after the provider accepted it; if the worker dies
between accepting and marking, that one alert can go twice (no provider
offers an idempotency key), which is the one window left. Losing the
database is not such a window: an outcome that cannot be written is written
again until the database answers (`_record`), before the worker claims
anything else, so a sent alert is never claimed and sent again.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Optional

from aiolimiter import AsyncLimiter
from sqlalchemy.exc import InterfaceError, OperationalError

from alerts import outbox, triggers
from alerts.messages import PermanentFailure, RetryLater

logger = logging.getLogger(__name__)
TELEGRAM_PER_SECOND = 25  # Telegram allows about 30 messages a second to different chats


class Worker:
    """`senders` maps a channel name to its configured sender (an object with
    `send_alert`); an alert for a channel without one is given up."""

    def __init__(self, senders: dict, batch: int = 50, concurrency: int = 8, lease: timedelta = outbox.LEASE,
                 hold_after_claim: float = 0.0) -> None:
        self.batch, self.lease, self.hold = batch, lease, hold_after_claim
        self.senders = senders
        self.telegram = AsyncLimiter(TELEGRAM_PER_SECOND, 1)
        self.slots = asyncio.Semaphore(concurrency)
        self.stopping = asyncio.Event()

    async def once(self) -> int:
        """One round; returns how many alerts it claimed."""
        await asyncio.to_thread(triggers.scan)
        claimed = await asyncio.to_thread(outbox.claim, self.batch, self.lease)
        if claimed and self.hold:  # fault injection for the tests: a window to kill the worker after claiming
            await asyncio.sleep(self.hold)
        # Each delivery ends on its own: one failing never leaves the others' outcomes unwritten.
        for failure in await asyncio.gather(*(self.deliver(alert) for alert in claimed), return_exceptions=True):
            if isinstance(failure, BaseException):
                logger.error("delivering an alert failed", exc_info=failure)
        return len(claimed)

    async def deliver(self, alert: outbox.Claimed) -> None:
        outcome, *details = await self.send(alert)
        # Outside the sending slots: waiting out a database outage never holds up other sends.
        if not await self._record(outcome, alert, *details) and outcome is outbox.sent:
            logger.warning("alert %s was sent after its lease ran out", alert.id)

    async def send(self, alert: outbox.Claimed) -> tuple:
        """Hand the alert to its provider; what to record: (outbox function, its extra arguments…)."""
        async with self.slots:
            sender = self.senders.get(alert.channel)
            if sender is None:
                return outbox.give_up, f"el canal {alert.channel} no está configurado"
            try:
                if alert.channel == "telegram":
                    await self.telegram.acquire()
                await sender.send_alert(alert.channel_user, alert.kind, alert.variables)
            except PermanentFailure as exc:
                return outbox.give_up, str(exc)
            except RetryLater as exc:
                return outbox.retry, str(exc), timedelta(seconds=exc.seconds)
            except Exception as exc:  # noqa: BLE001 - the provider refused or was unreachable: back off
                logger.warning("alert %s on %s failed: %s", alert.id, alert.channel, exc)
                return outbox.retry, f"{type(exc).__name__}: {exc}"
            return (outbox.sent,)

    async def _record(self, outcome, alert: outbox.Claimed, *args):
        """Write a delivery's outcome, waiting out a database outage (a restart, a failover).

        Giving up would leave a sent alert claimed: when its lease ended it would be
        claimed again and sent twice. The row keeps this worker's claim token, so the
        write succeeds once the database is back. (With several workers, an outage
        longer than the lease leaves a race: another worker's first claim against this
        retry, at most a second apart.)
        """
        pause = 0.5
        while True:
            try:
                return await asyncio.to_thread(outcome, alert, *args)
            except (OperationalError, InterfaceError) as exc:
                if self.stopping.is_set():
                    logger.error("stopping with the outcome of alert %s unwritten (%s)", alert.id, type(exc).__name__)
                    raise
                logger.warning("the database does not answer; writing the outcome of alert %s again in %.1f s",
                               alert.id, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)

    async def run(self, idle: float = 1.0, stop: Optional[asyncio.Event] = None) -> None:
        stop = self.stopping = stop or self.stopping
        while not stop.is_set():
            try:
                busy = await self.once()
            except Exception:  # noqa: BLE001 - a database blip must not end the worker; the outbox keeps everything
                logger.exception("alert round failed")
                busy = 0
            if not busy:
                try:
                    await asyncio.wait_for(stop.wait(), idle)
                except asyncio.TimeoutError:
                    pass
