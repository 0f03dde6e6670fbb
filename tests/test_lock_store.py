"""The conversation lock across replicas, against a real Redis (PREPAGO_TEST_REDIS_URL)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import PROJECT_ROOT, REDIS_URL

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="set PREPAGO_TEST_REDIS_URL (as .ci/run does) to test the lock store")


def store(**kwargs):
    from stores.lock_store import AtomicRedisLockStore

    kwargs.setdefault("key_prefix", f"t{uuid.uuid4().hex[:8]}")
    return AtomicRedisLockStore(url=REDIS_URL, **kwargs)


def test_contending_replicas_get_the_lock_one_at_a_time_in_ticket_order():
    """60 turns of one conversation from two stores (two replicas' connections) at once."""
    first = store()
    second = store(key_prefix=first.key_prefix)
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
    lock_store = store(lock_lifetime=1.5)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, REDIS_URL, lock_store.key_prefix], cwd=PROJECT_ROOT,
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
