"""The project's Redis clients, made in one place so that all of them outlive a Redis restart.

A restart of Redis leaves every pooled connection dead. Without a retry each dead
connection fails once ("Connection closed by server") before the pool replaces it,
so the first requests of a busy replica after a restart would all miss Redis: its
rate limits would count apart from the other replicas' and its conversation locks
would flap between shared and local. One immediate retry on a fresh connection
fixes that and costs nothing while Redis is down (the connect is refused at once).
Timeouts are not retried: a Redis that hangs must not double the wait.
"""
from __future__ import annotations

from typing import Any

import redis
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry


def connect(url: str, timeout: float, **options: Any) -> aioredis.Redis:
    """An asyncio client for `url` (socket timeout `timeout` seconds)."""
    return aioredis.Redis.from_url(url, socket_timeout=timeout, retry=AsyncRetry(NoBackoff(), 1),
                                   retry_on_error=[RedisConnectionError], **options)


def connect_blocking(url: str, timeout: float, **options: Any) -> redis.Redis:
    """A blocking client for `url`, for code that runs outside an event loop."""
    return redis.Redis.from_url(url, socket_timeout=timeout, retry=Retry(NoBackoff(), 1),
                                retry_on_error=[RedisConnectionError], **options)
