"""Engine.IO connections, bounded before any namespace is joined: what a raw WebSocket that never says who it
is can make a gateway do.

- Every packet of a connection draws on its own bucket (``packet_rate``/``packet_burst``): past it the
  connection is closed, whether or not it joined a room (the guard's per-event rates only start at the join).
- A stray Engine.IO ``upgrade`` packet is dropped, never answered: Engine.IO answers each with a packet queued
  for a client that may never read.
- A packet of no Engine.IO type closes its connection, with one line in the log (Engine.IO would write a
  traceback, and for some not even close the connection).
- A connection that has not joined the namespace within ``join_within_s`` of opening (or that left it) is
  closed: it holds a slot of its address's connection cap meanwhile, and nothing else.
- A connection that closed holds nothing: it is freed as it closes, not at the cycle collector's next pass
  (``QuietWebSocket``; ``engine_requests`` for the request Engine.IO is given), and a connection's writer waits
  for its next message without a task of its own (``BoundedSocket.poll``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from engineio import packet as eio_packet
from engineio.async_drivers.asgi import WebSocket
from engineio.async_socket import AsyncSocket
from engineio.exceptions import QueueEmpty
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
PACKET_TYPES = frozenset(str(number) for number in range(len(eio_packet.packet_names)))


class PacketBucket:
    """A token bucket of one connection, on the process's clock (no I/O: it runs for every packet)."""

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self._rate, self._burst = rate, float(burst)
        self._tokens, self._stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        moment = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (moment - self._stamp) * self._rate)
        self._stamp = moment
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class BoundedSocket(AsyncSocket):  # type: ignore[misc]
    """An Engine.IO socket whose packets are counted, whose writer waits without a task per message, and whose
    WebSocket leaves no reference cycle when its client goes. Engine.IO makes its sockets itself; ``bound``
    turns one it just made into this. ``close`` is told the socket's id and why it must go."""

    bucket: PacketBucket
    close_soon: Callable[[str, str], None]

    @classmethod
    def bound(cls, socket: AsyncSocket, bucket: PacketBucket, close_soon: Callable[[str, str], None]) -> None:
        socket.__class__ = cls
        socket.bucket, socket.close_soon = bucket, close_soon

    async def receive(self, pkt: Any) -> None:
        if self.closing or self.closed:
            return
        if not self.bucket.take():
            self.close_soon(self.sid, "packet_flood")
        elif not 0 <= pkt.packet_type < len(eio_packet.packet_names):  # "9": Engine.IO would log a traceback
            log.warning("closing connection %s: bad packet (Engine.IO type %d)", self.sid, pkt.packet_type)
            self.close_soon(self.sid, "bad_packet")
        elif pkt.packet_type != eio_packet.UPGRADE:  # an upgrade's own is read before this, never here
            await super().receive(pkt)

    async def poll(self) -> list[Any]:
        """Engine.IO's, waiting for the next packet without ``asyncio.wait_for``, which made a task of each wait:
        a caption to a thousand viewers was a thousand tasks and three turns of the event loop before the first
        byte went out, with other clients' work let in at each turn. Now each writer goes on in the same turn
        as its packet is queued."""
        try:
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                packets = [await self.queue.get()]
        except (TimeoutError, asyncio.CancelledError):
            raise QueueEmpty() from None
        self.queue.task_done()
        if packets == [None]:
            return []
        while not self.queue.empty():
            pkt = self.queue.get_nowait()
            self.queue.task_done()
            if pkt is None:
                self.queue.put_nowait(None)  # the end, for the next poll
                break
            packets.append(pkt)
        return packets

    async def _websocket_handler(self, ws: Any) -> Any:
        ws.__class__ = QuietWebSocket
        return await super()._websocket_handler(ws)


class QuietWebSocket(WebSocket):  # type: ignore[misc]
    """Engine.IO's ASGI WebSocket, telling its handler of a client gone by ``None`` instead of the ``OSError`` it
    raises. That error, kept by the reading task that ``asyncio.wait_for`` holds in a frame of its traceback,
    was a reference cycle holding the whole connection (protocol, transport, buffers, tasks) until the cycle
    collector's next pass: hundreds of objects for every connection that closed, and with a thousand viewers
    collections of 30-60 ms during which no caption went out. Engine.IO ends a connection on ``None`` as it
    does on the error."""

    async def wait(self) -> Any:
        try:
            return await super().wait()
        except OSError:
            return None


class EngineIOFrames:
    """WebSocket messages Engine.IO cannot even decode (an empty text, a text not starting with a packet type)
    end their connection here, as if the client had left: Engine.IO decodes them outside of any error handling,
    and each would end in a traceback in the log."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self._app(scope, receive, send)
            return

        await self._app(scope, CheckedReceive(receive), send)


class CheckedReceive:
    """A WebSocket's ``receive`` whose undecodable texts end the connection."""

    __slots__ = ("_receive",)

    def __init__(self, receive: Receive) -> None:
        self._receive = receive

    async def __call__(self) -> Message:
        message = await self._receive()
        text = message.get("text") if message["type"] == "websocket.receive" else None
        if text is not None and not (text and text[0] in PACKET_TYPES):
            log.warning("closing a WebSocket: not an Engine.IO packet (%r)", text[:20])
            return {"type": "websocket.disconnect", "code": 1008}
        return message
