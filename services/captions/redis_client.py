"""The Redis connection of the scale-out processes, and how they ride out a Redis restart."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ClusterDownError, SlotNotCoveredError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from captions.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
# A cluster whose node failed answers CLUSTERDOWN / TRYAGAIN or leaves a slot uncovered until its replica is
# promoted (seconds): as unavailable as a single Redis restarting.
UNAVAILABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    OSError,
    ClusterDownError,
    TryAgainError,
    SlotNotCoveredError,
)


class _Cluster(RedisCluster):
    """redis-py asks a node where an XREADGROUP's keys are (COMMAND GETKEYS, twice a read: its keys move with
    its options); every transcriber reads each of its rooms that way, so the keys are found here, after STREAMS."""

    async def _determine_slot(self, command: str, *args: Any) -> int:
        if str(command).upper() in ("XREAD", "XREADGROUP"):
            words = [arg.upper() if isinstance(arg, bytes) else str(arg).upper().encode() for arg in args]
            if b"STREAMS" in words:
                named = args[words.index(b"STREAMS") + 1 :]
                slots = {self.keyslot(key) for key in named[: len(named) // 2]}
                if len(slots) == 1:
                    return slots.pop()
        return await super()._determine_slot(command, *args)


RedisClient = aioredis.Redis | RedisCluster
# Blocking reads wait this long; the socket timeout must be longer.
BLOCK_MS = 500
# A connection idle this long is checked (PING) before its next command.
HEALTH_CHECK_S = 10
# A blocking read loop that lost Redis tries again after this long (it has no caller to give up for).
RETRY_PAUSE_S = 0.5


def connect(settings: Settings) -> RedisClient:
    """One Redis, or a Redis Cluster reached through ``redis_url`` as a seed node (``redis_cluster``)."""
    if not settings.redis_url:
        raise ValueError("set REDIS_URL (or CAPTIONS_REDIS_URL) for the gateway and transcriber services")
    # Named, so that an operator's CLIENT LIST (and the cluster benchmark) tells which process holds a connection.
    # CLIENT SETNAME refuses spaces, and an instance name is the operator's free text.
    name = "captions:" + "_".join(instance_name(settings).split())
    if settings.redis_cluster:
        return _Cluster.from_url(
            settings.redis_url,
            client_name=name,
            socket_connect_timeout=2,
            socket_timeout=BLOCK_MS / 1000 + 5,
            health_check_interval=HEALTH_CHECK_S,
            # Every pub/sub connection and blocking read holds a connection of its node.
            max_connections=1000,
        )
    return aioredis.Redis.from_url(
        settings.redis_url,
        client_name=name,
        socket_connect_timeout=2,
        socket_timeout=BLOCK_MS / 1000 + 5,
        health_check_interval=HEALTH_CHECK_S,
    )


def instance_name(settings: Settings) -> str:
    return settings.instance_name or f"{socket.gethostname()}-{os.getpid()}"


class Retrying:
    """How every Redis call of a process rides out a Redis restart or failover (they last seconds): it waits
    for Redis, up to ``patience_s``, rather than fail. ``give_up`` makes the remaining calls fail at once (a
    process shutting down)."""

    def __init__(self, patience_s: float) -> None:
        self.patience_s = patience_s

    def give_up(self) -> None:
        self.patience_s = 0.0

    async def __call__(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience_s
        delay = 0.05
        while True:
            try:
                return await operation()
            except UNAVAILABLE as error:
                if loop.time() + delay > deadline:
                    raise
                log.warning("%s: Redis unavailable (%s); retrying", what, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)


def stream_id(entry_id: bytes | str) -> tuple[int, int]:
    """A stream entry id as a pair that orders as Redis orders them."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    milliseconds, _, sequence = text.partition("-")
    return int(milliseconds), int(sequence or 0)
