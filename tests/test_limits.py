"""Per-client rate limits (aiolimiter underneath)."""
import asyncio

from channels.limits import RateLimit


def test_each_client_has_its_own_budget():
    async def scenario():
        limit = RateLimit(per_minute=5)
        first = [await limit.allow("a") for _ in range(7)]
        other = await limit.allow("b")
        return first, other

    first, other = asyncio.run(scenario())
    assert first == [True] * 5 + [False] * 2 and other is True
