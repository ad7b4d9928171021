"""The Redis cache backend (core.rediscache): one client object per connection pool, not one per call."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the backend is Redis's: without Redis, LocMem")


def test_operations_share_one_client_and_still_answer():
    backend = cache._cache
    assert backend.get_client() is backend.get_client("a key")
    cache.set("rediscache-probe", {"n": 1}, 30)
    cache.set_many({"rediscache-a": 1, "rediscache-b": 2}, 30)
    assert cache.get("rediscache-probe") == {"n": 1}
    assert cache.get_many(["rediscache-a", "rediscache-b", "rediscache-none"]) == {"rediscache-a": 1, "rediscache-b": 2}
    assert cache.add("rediscache-probe", "other", 30) is False
    cache.delete_many(["rediscache-probe", "rediscache-a", "rediscache-b"])
    assert cache.get("rediscache-probe") is None
