"""Django's Redis cache backend, with one Redis client object per connection pool.

Django's `RedisCacheClient.get_client` makes a new `redis.Redis` for every operation, and redis-py builds
its table of about 170 response callbacks in each one: about 0.2 ms of CPU per cache operation, more
than the round trip to Redis itself. A signed-in request does four or five (the session, the page
cache's generations, the kept page), so this was a fifth of a kept page's whole cost. A `redis.Redis`
is safe to share (its connections come from the pool, one per command), and Django already keeps one
cache object, and so one pool, per thread.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _SharedClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own private helpers (the stubs do not declare them): the pool for reads or writes, and
        # the redis-py client class.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache`, its clients made once (see the module)."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClient
