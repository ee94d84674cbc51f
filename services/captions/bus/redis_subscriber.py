"""Sharded pub/sub (SSUBSCRIBE) on one Redis or a Redis Cluster: one connection per node that serves a
subscribed channel, each read by its own task, so a message is handed on as soon as it arrives whichever node
it comes from.

A channel lives where its slot lives. When that changes (a failover, a resharding: the node says
``sunsubscribe`` or answers MOVED) or a node's connection breaks, its channels are subscribed again where they
now live, and ``resubscribed`` is called for each: pub/sub does not keep what was sent meanwhile, so the owner
fills the gap from where it keeps history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError, SlotNotCoveredError
from redis.exceptions import TimeoutError as RedisTimeoutError

from captions import redis_client
from captions.redis_client import RETRY_PAUSE_S, UNAVAILABLE, RedisClient

log = logging.getLogger(__name__)
Deliver = Callable[[str, bytes], Awaitable[None]]
Resubscribed = Callable[[str], Awaitable[None]]
CONFIRM_WITHIN_S = 5.0


@dataclass
class _NodeReader:
    address: str
    connection: aioredis.Redis  # the node's own client on a cluster; the process's client on one Redis
    pubsub: Any  # redis.asyncio.client.PubSub
    channels: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class ShardedSubscriber:
    def __init__(self, client: RedisClient, deliver: Deliver, resubscribed: Resubscribed) -> None:
        self._client = client
        self._deliver = deliver
        self._resubscribed = resubscribed
        self._wanted: set[str] = set()
        self._readers: dict[str, _NodeReader] = {}
        self._lock = asyncio.Lock()  # subscriptions change one at a time
        self._confirmed: dict[str, asyncio.Event] = {}
        self._moving: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def channels(self) -> frozenset[str]:
        """The channels subscribed now, as the nodes were told."""
        return frozenset(channel for reader in self._readers.values() for channel in reader.channels)

    async def subscribe(self, channel: str) -> None:
        """Returns once the channel's node has confirmed: from then on every message of it is delivered."""
        async with self._lock:
            self._wanted.add(channel)
            await self._subscribe_where_it_lives(channel)

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._wanted.discard(channel)
            for reader in list(self._readers.values()):
                if channel in reader.channels:
                    reader.channels.discard(channel)
                    with contextlib.suppress(*UNAVAILABLE):
                        await reader.pubsub.sunsubscribe(channel)
                    if not reader.channels:
                        await self._close_reader(reader)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._moving):
            task.cancel()
        for reader in list(self._readers.values()):
            await self._close_reader(reader)

    # --- where channels live ------------------------------------------------------------------------------

    async def _subscribe_where_it_lives(self, channel: str) -> None:
        address = await self._address_of(channel)
        reader = self._readers.get(address)
        if reader is None:
            connection = self._connection(address)
            reader = self._readers[address] = _NodeReader(address, connection, connection.pubsub())
        confirmed = self._confirmed[channel] = asyncio.Event()
        # Through ``ssubscribe``, so the connection counts as subscribed: a plain command would first check the
        # connection's health, reading a PING's answer while the reader task reads the same socket.
        await reader.pubsub.ssubscribe(channel)
        reader.channels.add(channel)
        if reader.task is None:
            reader.task = asyncio.create_task(self._read(reader))
        try:
            # Once the node has confirmed, every message published on the channel reaches the reader.
            await asyncio.wait_for(confirmed.wait(), CONFIRM_WITHIN_S)
        except TimeoutError:
            raise RedisTimeoutError(f"{channel} not confirmed by {address}") from None
        finally:
            self._confirmed.pop(channel, None)

    async def _address_of(self, channel: str) -> str:
        if isinstance(self._client, RedisCluster):
            await self._client.initialize()  # no-op once the client knows the slots
            node = self._client.get_node_from_key(channel)
            if node is None:
                raise SlotNotCoveredError(f"no node serves {channel}")
            return f"{node.host}:{node.port}"
        return "single"

    def _connection(self, address: str) -> aioredis.Redis:
        if isinstance(self._client, RedisCluster):
            host, _, port = address.rpartition(":")
            return aioredis.Redis(
                host=host,
                port=int(port),
                socket_connect_timeout=2,
                health_check_interval=redis_client.HEALTH_CHECK_S,
            )
        return self._client

    async def _read(self, reader: _NodeReader) -> None:
        try:
            while not self._closed:
                message = await reader.pubsub.get_message(timeout=None)
                if message is None:
                    continue
                kind = message["type"]
                kind = kind.decode() if isinstance(kind, bytes) else kind
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
                if kind == "smessage":
                    await self._deliver(channel, message["data"])
                elif kind == "ssubscribe" and channel in self._confirmed:
                    self._confirmed[channel].set()
                elif kind == "sunsubscribe" and channel in self._wanted and channel in reader.channels:
                    # The node gave the slot away (resharding, or it became a replica).
                    reader.channels.discard(channel)
                    self._move([channel])
        except asyncio.CancelledError:
            raise
        except (
            *UNAVAILABLE,
            ResponseError,
        ) as error:  # ResponseError: MOVED for a channel sent to a stale node
            log.warning("room events: lost node %s (%s); subscribing again", reader.address, error)
            await self._lose(reader)
        except Exception:  # a node reader that died would leave its rooms without events: they move instead
            log.exception("room events: reading node %s failed; subscribing again", reader.address)
            await self._lose(reader)

    async def _lose(self, reader: _NodeReader) -> None:
        lost = list(reader.channels)
        await self._close_reader(reader)
        self._move(lost)

    def _move(self, channels: list[str]) -> None:
        task = asyncio.create_task(self._resubscribe(channels))
        self._moving.add(task)
        task.add_done_callback(self._moving.discard)

    async def _resubscribe(self, channels: list[str]) -> None:
        """Until each channel is subscribed where its slot lives now; then its owner fills the gap."""
        pending = list(channels)
        while pending and not self._closed:
            if isinstance(self._client, RedisCluster):
                with contextlib.suppress(*UNAVAILABLE):
                    await self._client.nodes_manager.initialize()
            still: list[str] = []
            for channel in pending:
                async with self._lock:
                    if channel not in self._wanted:
                        continue
                    try:
                        await self._subscribe_where_it_lives(channel)
                    except (*UNAVAILABLE, ResponseError) as error:
                        log.info("room events: %s not subscribed yet (%s)", channel, error)
                        still.append(channel)
                        continue
                    except Exception:  # tried again like the others: a channel given up on is a silent room
                        log.exception("room events: subscribing to %s failed", channel)
                        still.append(channel)
                        continue
                await self._resubscribed(channel)
            pending = still
            if pending:
                await asyncio.sleep(RETRY_PAUSE_S)

    async def _close_reader(self, reader: _NodeReader) -> None:
        self._readers.pop(reader.address, None)
        if reader.task is not None and reader.task is not asyncio.current_task():
            reader.task.cancel()
            await asyncio.gather(reader.task, return_exceptions=True)
        with contextlib.suppress(Exception):
            await reader.pubsub.aclose()
            if reader.connection is not self._client:
                await reader.connection.aclose()
