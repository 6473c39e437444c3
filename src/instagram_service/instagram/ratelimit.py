"""Per-account rate limiter driven by Instagram's usage headers (values are percentages).

Below `slowdown_pct` calls go straight through; between it and `stop_pct` a bounded delay that
grows with usage is inserted; at `stop_pct` and above, and while blocked after a rate-limit
error, calls are refused with `RateLimited` (never slept through, never spun on).
State lives in a store: a dict in this process, or Redis so that workers share one budget.
Every change is one atomic read-modify-write (a WATCH/MULTI transaction on Redis), so that
workers recording usage or rate-limit errors at the same moment never lose each other's update.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

from redis.asyncio import Redis

from instagram_service.instagram.errors import RateLimited
from instagram_service.instagram.usage import parse_usage_headers
from instagram_service.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline


@dataclass(frozen=True)
class UsageSnapshot:
    pct: float
    blocked_until: float | None  # Unix time


@dataclass
class LimitState:
    pct: float = 0.0
    usage_expires_at: float = 0.0
    regain_at: float | None = None
    blocked_until: float | None = None
    strikes: int = 0


# Changes a state in place and returns the TTL to store it with, or None to leave it unchanged.
Mutation = Callable[[LimitState], float | None]


class LimitStore(Protocol):
    async def load(self, key: str) -> LimitState: ...
    async def update(self, key: str, mutate: Mutation) -> LimitState: ...
    async def aclose(self) -> None: ...


class MemoryLimitStore:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._data: dict[str, tuple[float, LimitState]] = {}

    async def load(self, key: str) -> LimitState:
        entry = self._data.get(key)
        if entry is None or entry[0] <= self._clock():
            self._data.pop(key, None)
            return LimitState()
        return LimitState(**asdict(entry[1]))

    async def update(self, key: str, mutate: Mutation) -> LimitState:
        # No await between the read and the write: atomic within the event loop.
        state = await self.load(key)
        ttl_s = mutate(state)
        if ttl_s is not None:
            self._data[key] = (self._clock() + ttl_s, LimitState(**asdict(state)))
        return state

    async def aclose(self) -> None:
        self._data.clear()


class RedisLimitStore:
    """One JSON value per account, with a TTL, shared by every process on the same Redis."""

    def __init__(self, url: str, prefix: str = "igs:ratelimit:") -> None:
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        # After a Redis restart the pool holds dead connections: reconnect and retry the
        # command a few times rather than fail the first sync that runs once it is back.
        self._redis: Redis = Redis.from_url(
            url,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            health_check_interval=15,
        )
        self._prefix = prefix

    async def load(self, key: str) -> LimitState:
        return _decode(await self._redis.get(self._prefix + key))

    async def update(self, key: str, mutate: Mutation) -> LimitState:
        name = self._prefix + key

        async def attempt(pipe: Pipeline) -> LimitState:
            # Re-run from a fresh read whenever another worker wrote the key meanwhile.
            state = _decode(await pipe.get(name))
            ttl_s = mutate(state)
            pipe.multi()  # type: ignore[no-untyped-call]  # untyped in redis-py
            if ttl_s is not None:
                pipe.set(name, json.dumps(asdict(state)), px=max(1, int(ttl_s * 1000)))
            return state

        state: LimitState = await self._redis.transaction(attempt, name, value_from_callable=True)
        return state

    async def aclose(self) -> None:
        await self._redis.aclose()


def _decode(raw: bytes | str | None) -> LimitState:
    if not raw:
        return LimitState()
    try:
        return LimitState(**json.loads(raw))
    except (ValueError, TypeError):
        return LimitState()


class RateLimiter:
    def __init__(
        self,
        store: LimitStore | None = None,
        *,
        slowdown_pct: float = 80.0,
        stop_pct: float = 95.0,
        max_delay_s: float = 2.0,
        usage_ttl_s: float = 300.0,
        backoff_base_s: float = 60.0,
        backoff_max_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store: LimitStore = store or MemoryLimitStore(clock)
        self.slowdown_pct = slowdown_pct
        self.stop_pct = max(stop_pct, slowdown_pct)
        self.max_delay_s = max_delay_s
        self.usage_ttl_s = usage_ttl_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._clock = clock
        self._sleep = sleep

    async def usage(self, key: str) -> UsageSnapshot:
        state = await self.store.load(key)
        now = self._clock()
        pct = _current_pct(state, now)
        blocked = state.blocked_until if state.blocked_until and state.blocked_until > now else None
        return UsageSnapshot(pct=pct, blocked_until=blocked)

    def delay_for(self, pct: float) -> float:
        """Delay before a call at `pct` usage: 0 below slowdown, growing to max_delay_s at stop."""
        if pct <= self.slowdown_pct:
            return 0.0
        span = max(self.stop_pct - self.slowdown_pct, 1e-9)
        fraction = min(1.0, (pct - self.slowdown_pct) / span)
        return self.max_delay_s * fraction * fraction

    async def acquire(self, key: str, call: str) -> None:
        """Wait a little if usage is high; raise RateLimited if calls must stop now."""
        state = await self.store.load(key)
        now = self._clock()
        if state.blocked_until and state.blocked_until > now:
            raise RateLimited(
                call,
                "calls to this account are paused after a rate-limit error",
                retry_after_s=state.blocked_until - now,
                from_limiter=True,
            )
        pct = _current_pct(state, now)
        if pct >= self.stop_pct:
            until = state.regain_at if state.regain_at is not None else state.usage_expires_at
            raise RateLimited(
                call,
                f"usage at {pct:.0f}% of Instagram's limit (stop at {self.stop_pct:.0f}%)",
                retry_after_s=max(until - now, 1.0),
                from_limiter=True,
            )
        delay = self.delay_for(pct)
        if delay > 0:
            await self._sleep(delay)

    async def record_headers(self, key: str, headers: Mapping[str, str]) -> float | None:
        """Store the usage the response reports; return its percentage (None if absent)."""
        pct, regain_s = parse_usage_headers(headers)
        if pct is None:
            return None
        now = self._clock()

        def apply(state: LimitState) -> float:
            state.pct = pct
            state.usage_expires_at = now + self.usage_ttl_s
            state.regain_at = now + regain_s if regain_s else None
            return self._ttl(state, now)

        await self.store.update(key, apply)
        return pct

    async def record_success(self, key: str) -> None:
        def clear_strikes(state: LimitState) -> float | None:
            if not state.strikes:
                return None
            state.strikes = 0
            return self._ttl(state, self._clock())

        await self.store.update(key, clear_strikes)

    async def record_rate_limited(self, key: str, retry_after_s: float | None) -> float:
        """Block the account after a rate-limit error; return the seconds it stays blocked."""
        now = self._clock()

        def block(state: LimitState) -> float:
            wait_s = retry_after_s
            if wait_s is None or wait_s <= 0:
                ceiling = min(self.backoff_max_s, self.backoff_base_s * 2**state.strikes)
                # Half fixed, half jitter: workers sharing a budget should not all return at once.
                wait_s = ceiling / 2 + random.uniform(0, ceiling / 2)
            state.strikes += 1
            state.blocked_until = max(state.blocked_until or 0.0, now + wait_s)
            # The block's end is when Instagram said the budget reopens: the reading that
            # led to the block must not outlive it (it stopped the follow-up job, at 100 %).
            state.usage_expires_at = min(state.usage_expires_at, state.blocked_until)
            return self._ttl(state, now)

        state = await self.store.update(key, block)
        return (state.blocked_until or now) - now

    async def merge(self, source: str, target: str) -> None:
        """Carry what was learnt under one key (a token hash) over to another (the user id)."""
        if source == target:
            return
        src = await self.store.load(source)
        now = self._clock()

        def absorb(dst: LimitState) -> float:
            if src.usage_expires_at > now and (dst.usage_expires_at <= now or src.pct > dst.pct):
                dst.pct, dst.usage_expires_at, dst.regain_at = (
                    src.pct,
                    src.usage_expires_at,
                    src.regain_at,
                )
            if (src.blocked_until or 0.0) > (dst.blocked_until or 0.0):
                dst.blocked_until = src.blocked_until
            dst.strikes = max(src.strikes, dst.strikes)
            return self._ttl(dst, now)

        await self.store.update(target, absorb)

    def _ttl(self, state: LimitState, now: float) -> float:
        # Strikes are remembered a while after the block, so repeated errors escalate.
        ends = [state.usage_expires_at, (state.blocked_until or 0.0) + self.backoff_max_s]
        return max(1.0, max(ends) - now)

    async def aclose(self) -> None:
        await self.store.aclose()


def _current_pct(state: LimitState, now: float) -> float:
    """The stored usage while it is trusted: not expired, and not past the time Instagram
    named for regaining access (the budget has reopened by then)."""
    if state.usage_expires_at <= now or (state.regain_at is not None and state.regain_at <= now):
        return 0.0
    return state.pct


def make_rate_limiter(settings: Settings) -> RateLimiter:
    store: LimitStore = (
        RedisLimitStore(settings.redis_url) if settings.redis_url else MemoryLimitStore()
    )
    return RateLimiter(
        store,
        slowdown_pct=settings.rate_limit_slowdown_pct,
        stop_pct=settings.rate_limit_stop_pct,
        max_delay_s=settings.rate_limit_max_delay_s,
        usage_ttl_s=settings.rate_limit_usage_ttl_s,
        backoff_base_s=settings.rate_limit_backoff_base_s,
        backoff_max_s=settings.rate_limit_backoff_max_s,
    )
