"""The conversation lock across replicas, against a real Redis (PREPAGO_TEST_REDIS_URL)."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import PROJECT_ROOT, REDIS_URL

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="set PREPAGO_TEST_REDIS_URL (as .ci/run does) to test the lock store")


def new_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def store(**kwargs):
    from stores.lock_store import AtomicRedisLockStore

    kwargs.setdefault("key_prefix", new_prefix())
    return AtomicRedisLockStore(url=REDIS_URL, **kwargs)


def test_contending_replicas_get_the_lock_one_at_a_time_in_ticket_order():
    """60 turns of one conversation from two stores (two replicas' connections) at once."""
    prefix = new_prefix()
    first, second = store(key_prefix=prefix), store(key_prefix=prefix)
    log: list[tuple[str, int, int]] = []

    async def turn(lock_store, n: int):
        async with lock_store.lock("conversation") as ticket:
            log.append(("in", n, ticket))
            await asyncio.sleep(0.003)  # an await inside the turn, where another coroutine could run
            log.append(("out", n, ticket))

    async def main():
        await asyncio.gather(*(turn(first if n % 2 else second, n) for n in range(60)))

    asyncio.run(main())
    assert [kind for kind, _, _ in log] == ["in", "out"] * 60  # never two inside at once
    entries = [(n, ticket) for kind, n, ticket in log if kind == "in"]
    tickets = [ticket for _, ticket in entries]
    assert tickets == sorted(tickets) and len(set(tickets)) == 60  # unique, served in order


def test_other_conversations_do_not_wait():
    lock_store = store()

    async def main():
        async with lock_store.lock("a"):
            started = time.monotonic()
            async with lock_store.lock("b"):
                return time.monotonic() - started

    assert asyncio.run(main()) < 0.5


HOLDER = """
import asyncio, sys, time
from stores.lock_store import AtomicRedisLockStore
s = AtomicRedisLockStore(url=sys.argv[1], key_prefix=sys.argv[2], lock_lifetime=1.5)
async def main():
    async with s.lock("conversation"):
        print("held", flush=True)
        await asyncio.sleep(3600)
asyncio.run(main())
"""


def test_a_killed_holder_blocks_its_conversation_only_until_its_lease_runs_out():
    prefix = new_prefix()
    lock_store = store(lock_lifetime=1.5, key_prefix=prefix)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, REDIS_URL, prefix], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"

        async def main():
            waiting = asyncio.ensure_future(lock_store.lock("conversation").__aenter__())
            await asyncio.sleep(3)  # twice the lease: the live holder renews it
            assert not waiting.done()
            os.kill(holder.pid, signal.SIGKILL)
            started = time.monotonic()
            await waiting
            return time.monotonic() - started

        assert asyncio.run(main()) < 1.5 + 0.5
    finally:
        if holder.poll() is None:
            holder.kill()


def test_one_senders_burst_on_a_cold_pool_is_served_in_arrival_order():
    """Rasa's test_message_order, 20 times, each on a new store: a new connection pool that opens
    its connections (and loads the scripts) during the burst, as just after a replica starts.
    Before tickets were taken in call order, 12 of 20 such bursts were served out of order."""

    async def burst() -> tuple[list[int], list[int]]:
        lock_store = store()  # cold: no connection open yet
        arrived, served = [], []

        async def message(n: int, work: float):
            arrived.append(n)
            async with lock_store.lock("some id", wait_time_in_seconds=0.01):
                await asyncio.sleep(work)  # later messages are quicker: they would finish first if let in
                served.append(n)

        await asyncio.gather(*(message(n, 0.02 - 0.001 * n) for n in range(10)))
        return arrived, served

    for trial in range(20):
        arrived, served = asyncio.run(burst())
        assert arrived == list(range(10))
        assert served == arrived, f"trial {trial}: served {served}"


def test_a_lock_held_past_its_lifetime_raises_lock_error_for_the_waiter_who_leaves_the_queue():
    """Rasa's test_lock_error: the turn waiting behind one that holds the lock longer than the
    waiter's `lock_lifetime` fails with LockError; the holder keeps the lock (never two inside),
    and the waiter that gave up does not hold up the next message."""
    from rasa.core.lock_store import LockError

    lock_store = store()
    log: list[str] = []

    async def slow_turn():
        async with lock_store.lock("c", lock_lifetime=0.05, wait_time_in_seconds=0.01):
            log.append("slow in")
            await asyncio.sleep(0.5)
            log.append("slow out")

    async def impatient():
        await asyncio.sleep(0.01)
        try:
            async with lock_store.lock("c", lock_lifetime=0.05, wait_time_in_seconds=0.01):
                log.append("impatient in")
        except LockError:
            log.append("impatient gave up")

    async def main():
        await asyncio.gather(slow_turn(), impatient())
        async with lock_store.lock("c", lock_lifetime=0.05):  # free at once: nobody left in the queue
            log.append("next in")

    asyncio.run(main())
    assert log == ["slow in", "impatient gave up", "slow out", "next in"]


def test_ticket_lock_lifetime_is_how_long_a_message_waits_by_default(monkeypatch):
    """Rasa calls lock(sender_id) with no lifetime: TICKET_LOCK_LIFETIME decides, as in Rasa."""
    from rasa.core.lock_store import LockError

    monkeypatch.setenv("TICKET_LOCK_LIFETIME", "1")
    lock_store = store()
    assert lock_store.ticket_lifetime == 1
    log: list[str] = []

    async def main():
        async def holder():
            async with lock_store.lock("c"):
                log.append("holder in")
                await asyncio.sleep(2.5)
                log.append("holder out")

        async def waiter():
            await asyncio.sleep(0.05)
            with pytest.raises(LockError):
                async with lock_store.lock("c"):
                    pass
            log.append("waiter gave up")

        await asyncio.gather(holder(), waiter())

    asyncio.run(main())
    assert log == ["holder in", "waiter gave up", "holder out"]


def test_while_redis_is_away_the_local_lock_also_gives_up_after_the_lifetime():
    from rasa.core.lock_store import LockError

    from stores.lock_store import AtomicRedisLockStore

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lock_store = AtomicRedisLockStore(url=f"redis://127.0.0.1:{port}/0", key_prefix="away")
    log: list[str] = []

    async def main():
        async def holder():
            async with lock_store.lock("c") as ticket:
                log.append(f"holder in {ticket}")
                await asyncio.sleep(0.3)
                log.append("holder out")

        async def waiter():
            await asyncio.sleep(0.05)
            with pytest.raises(LockError):
                async with lock_store.lock("c", lock_lifetime=0.1):
                    pass
            log.append("waiter gave up")

        await asyncio.gather(holder(), waiter())

    asyncio.run(main())
    assert log == ["holder in 0", "waiter gave up", "holder out"]


def test_an_invalid_key_prefix_falls_back_to_lock_like_rasa():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    conversation = f"c{uuid.uuid4().hex}"
    for prefix, expected in (("not valid!", "lock:"), ("valid42", "valid42:lock:")):
        lock_store = store(key_prefix=prefix)
        assert lock_store.key_prefix == expected

        async def main():
            async with lock_store.lock(conversation):
                return client.exists(f"{expected}{conversation}:next", f"{expected}{conversation}:queue")

        assert asyncio.run(main()) == 2


def test_rasas_lock_store_api_reads_and_writes_the_same_tickets():
    """get_lock/save_lock/issue_ticket/finish_serving/cleanup as Rasa's LockStore, on the keys lock() uses."""
    from rasa.core.lock import TicketLock

    lock_store = store()
    assert lock_store.get_lock("c") is None
    lock_store.save_lock(TicketLock("c"))
    assert lock_store.get_lock("c").conversation_id == "c"
    first, second = lock_store.issue_ticket("c", 10), lock_store.issue_ticket("c", 10)
    assert (first, second) == (0, 1)  # numbered from 0, as Rasa's TicketLock
    lock = lock_store.get_lock("c")
    assert [t.number for t in lock.tickets] == [0, 1] and lock.now_serving == 0
    assert all(9 < t.expires - time.time() <= 10.5 for t in lock.tickets)  # in this process's clock

    lock.issue_ticket(30)  # a TicketLock changed here and saved whole, as Rasa's base methods do
    lock_store.save_lock(lock)
    assert [t.number for t in lock_store.get_lock("c").tickets] == [0, 1, 2]
    lock_store.finish_serving("c", 0)
    assert lock_store.get_lock("c").now_serving == 1

    async def held_by_lock():  # lock() queues behind tickets 1 and 2 until they are served
        async def serve_the_others():
            await asyncio.sleep(0.05)
            lock_store.cleanup("c", 1)
            lock_store.cleanup("c", 2)

        serving = asyncio.ensure_future(serve_the_others())
        async with lock_store.lock("c", lock_lifetime=5) as ticket:
            seen = lock_store.get_lock("c")
        await serving
        return ticket, seen

    ticket, seen = asyncio.run(held_by_lock())
    assert ticket == 3 and seen.now_serving == 3 and seen.is_someone_waiting()
    assert lock_store.get_lock("c") is None  # the last one out removes the lock
    lock_store.save_lock(TicketLock("c"))
    lock_store.delete_lock("c")
    assert lock_store.get_lock("c") is None


def test_a_message_that_waits_too_long_gets_a_polite_spanish_answer(db_url, monkeypatch):
    """Rasa's Agent.handle_message raises the LockError into the channel; every channel's turn
    (channels/turns.py) answers it in Spanish instead of failing or staying silent."""
    from rasa.core.agent import Agent

    from channels.guard import bind_messaging
    from channels.turns import STILL_ANSWERING, run_turn

    monkeypatch.setenv("TICKET_LOCK_LIFETIME", "1")
    agent = Agent(lock_store=store())

    class SlowTurn:  # the turn inside Rasa's lock: slower than a message may wait
        async def handle_message(self, message):
            await asyncio.sleep(1.5)
            await message.output_channel.send_text_message(message.sender_id, "Tu saldo es $1,234.50 MXN.")

    agent.processor = SlowTurn()
    binding = bind_messaging("telegram", "5550001", None)

    async def main():
        first = asyncio.ensure_future(run_turn(agent.handle_message, "¿cuánto saldo tengo?", binding, "telegram"))
        await asyncio.sleep(0.05)
        second = await run_turn(agent.handle_message, "¿y mis recargas?", binding, "telegram")
        return await first, second

    first, second = asyncio.run(main())
    assert [m["text"] for m in first] == ["Tu saldo es $1,234.50 MXN."]
    assert [m["text"] for m in second] == [STILL_ANSWERING]
