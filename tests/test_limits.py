"""Per-client rate limits: aiolimiter in one process, the same bucket in Redis across replicas."""
import asyncio
import uuid

import pytest

from stores.rate_limits import RateLimit, client_address
from tests.conftest import REDIS_URL


def test_each_client_has_its_own_budget(monkeypatch):
    monkeypatch.delenv("PREPAGO_REDIS_URL", raising=False)

    async def scenario():
        limit = RateLimit("t", per_minute=5)
        first = [await limit.allow("a") for _ in range(7)]
        other = await limit.allow("b")
        return first, other

    first, other = asyncio.run(scenario())
    assert first == [True] * 5 + [False] * 2 and other is True


@pytest.mark.skipif(not REDIS_URL, reason="set PREPAGO_TEST_REDIS_URL (as .ci/run does) to test the shared limit")
def test_replicas_share_one_budget_per_client(monkeypatch):
    monkeypatch.setenv("PREPAGO_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("PREPAGO_LOCK_PREFIX", f"t{uuid.uuid4().hex[:8]}")

    async def scenario():
        replica_a, replica_b = RateLimit("t", per_minute=5), RateLimit("t", per_minute=5)
        answers = [await (replica_a if i % 2 else replica_b).allow("a") for i in range(8)]
        return answers, await replica_a.allow("b")

    answers, other = asyncio.run(scenario())
    assert answers == [True] * 5 + [False] * 3 and other is True


def test_without_redis_each_replica_still_counts(monkeypatch):
    monkeypatch.setenv("PREPAGO_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there

    async def scenario():
        limit = RateLimit("t", per_minute=3)
        return [await limit.allow("a") for _ in range(4)]

    assert asyncio.run(scenario()) == [True] * 3 + [False]


def test_forwarded_for_is_believed_only_from_our_proxies(monkeypatch):
    monkeypatch.delenv("PREPAGO_TRUSTED_PROXIES", raising=False)
    assert client_address("198.51.100.7", "203.0.113.9") == "198.51.100.7"  # anyone can write the header
    monkeypatch.setenv("PREPAGO_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert client_address("10.1.2.3", "203.0.113.9") == "203.0.113.9"  # our proxy vouches for its peer
    # What the client wrote before its own address is not believed; the hops our proxies added are skipped.
    assert client_address("10.1.2.3", "1.2.3.4, 203.0.113.9, 10.9.9.9") == "203.0.113.9"
    assert client_address("127.0.0.1", None) == "127.0.0.1"
    assert client_address("10.1.2.3", "basura") == "10.1.2.3"
