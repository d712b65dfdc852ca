"""Token buckets in memory, one per key (an IP address, an account), with bounded memory.

Each key has a bucket of ``capacity`` tokens refilled at ``per_minute / 60`` tokens per
second; an attempt takes one token or is refused with the seconds until one is back. The
table holds at most ``max_keys`` buckets: when full, buckets that have refilled completely
(they remember nothing) are dropped first, then the least recently used. State is per
process: several API processes each allow the configured rate.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from labelproof.errors import RateLimited

__all__ = ["RateLimited", "TokenBuckets"]


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """Thread-safe token buckets keyed by string; ``clock`` is monotonic seconds."""

    def __init__(
        self,
        *,
        capacity: int,
        per_minute: float,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1 or per_minute <= 0 or max_keys < 1:
            raise ValueError("capacity, per_minute and max_keys must be positive")
        self.capacity = capacity
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, bucket: _Bucket, now: float) -> float:
        return min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else seconds until one is back."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                self._make_room(now)
                bucket = _Bucket(float(self.capacity), now)
                self._buckets[key] = bucket
            else:
                self._buckets.move_to_end(key)
            bucket.tokens, bucket.at = self._level(bucket, now), now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _make_room(self, now: float) -> None:
        if len(self._buckets) < self.max_keys:
            return
        full = [k for k, b in self._buckets.items() if self._level(b, now) >= self.capacity]
        for k in full:
            del self._buckets[k]
        # Nothing forgettable: drop the least recently used tenth (at least one).
        excess = len(self._buckets) - self.max_keys + max(1, self.max_keys // 10)
        for _ in range(max(0, excess) if not full else 0):
            self._buckets.popitem(last=False)

    def check(self, key: str, *, scope: str) -> None:
        """Take a token or raise :class:`RateLimited` with a whole-second ``retry_after``."""
        wait = self.take(key)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise RateLimited(
                f"too many sign-in attempts for this {scope}; try again in {retry} s",
                retry_after=retry,
                scope=scope,
            )
