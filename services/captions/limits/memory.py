"""Limits of the one-process mode, in memory (bounded: the least recently used buckets are forgotten)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

# A forgotten bucket comes back full: only a key idle long enough to be this far down the list is forgotten.
MAX_BUCKETS = 100_000


class MemoryLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_buckets: int = MAX_BUCKETS) -> None:
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._held: dict[str, set[str]] = {}

    async def take(self, key: str, rate: float, burst: float, amount: float = 1.0) -> float:
        now = self._clock()
        tokens, at = self._buckets.pop(key, (burst, now))
        tokens = min(burst, tokens + max(0.0, now - at) * rate)
        wait = 0.0
        if tokens >= amount:
            tokens -= amount
        else:
            wait = (amount - tokens) / rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max_buckets:
            self._buckets.popitem(last=False)
        return wait

    async def hold(self, key: str, holder: str, limit: int) -> bool:
        holders = self._held.setdefault(key, set())
        if holder in holders:
            return True
        if len(holders) >= limit:
            if not holders:
                del self._held[key]
            return False
        holders.add(holder)
        return True

    async def release(self, key: str, holder: str) -> None:
        holders = self._held.get(key)
        if holders is not None:
            holders.discard(holder)
            if not holders:
                del self._held[key]

    async def release_anywhere(self, key: str, holder: str) -> None:
        await self.release(key, holder)

    async def refresh(self) -> None:
        return None
