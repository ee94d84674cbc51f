"""python-socketio, bounded: what one client can make the server hold, either way.

Incoming: a packet may carry at most one binary attachment (an audio frame), so a client's pending bytes are
one Engine.IO message, itself capped by ``max_http_buffer_size``; a malformed packet closes the connection.
Outgoing: a client that does not read (its Engine.IO queue past ``client_queue_max``) is disconnected rather
than buffered for; it catches up from its last caption when it reconnects. An event for a room is encoded
once and put straight into each member's queue: nothing per viewer but that (python-socketio makes a task per
recipient, which is most of what a caption to a thousand viewers costs it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from captions.gateway.engine_limits import BoundedSocket, PacketBucket
from captions.gateway.engine_requests import translate_requests_without_classes

log = logging.getLogger(__name__)
MAX_ATTACHMENTS = 1


@dataclass(frozen=True)
class PacketLimits:
    """Per connection: packets a second (and at once), and how soon it must join the namespace."""

    rate: float
    burst: int
    join_within_s: float


async def _nothing_to_do(*_: Any) -> None:
    return None


class TooManyAttachments(ValueError):
    pass


class BoundedPacket(packet.Packet):  # type: ignore[misc]
    def decode(self, encoded_packet: Any) -> int:
        count: int = super().decode(encoded_packet)
        if count > MAX_ATTACHMENTS:
            raise TooManyAttachments(f"a packet declared {count} binary attachments")
        return count


class RoomManager(socketio.AsyncManager):  # type: ignore[misc]
    """Rooms as python-socketio keeps them, and the rooms each client is in beside them: python-socketio finds
    a leaving client's rooms by copying and looking through every room of the namespace (one per client), so a
    disconnect cost time in proportion to everyone connected, and a reconnect storm's disconnects took the loop
    from the room's fan-out."""

    def __init__(self) -> None:
        super().__init__()
        self._rooms_of: dict[tuple[str, str], set[str | None]] = {}

    def basic_enter_room(
        self, sid: str, namespace: str, room: str | None, eio_sid: str | None = None
    ) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: str | None) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """As python-socketio's, but leaving only the client's own rooms."""
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: str | list[str] | None = None,
        callback: Any = None,
        to: str | None = None,
        ignore_queue: bool = False,  # python-socketio passes it on every emit; it means nothing without a queue
        **kwargs: Any,
    ) -> None:
        if callback is not None or kwargs or namespace not in self.rooms:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to,
                               ignore_queue=ignore_queue, **kwargs)  # fmt: skip
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        messages = [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]
        skipped = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        server: BoundedServer = self.server
        for sid, eio_sid in self.get_participants(namespace, to or room):
            if sid in skipped:
                continue
            queue = server.queue_of(eio_sid)
            if queue is not None:
                for message in messages:
                    queue.put_nowait(message)


class BoundedServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, *, client_queue_max: int, packets: PacketLimits, **options: Any) -> None:
        super().__init__(serializer=BoundedPacket, client_manager=RoomManager(), **options)
        translate_requests_without_classes(self.eio)
        self._client_queue_max = client_queue_max
        self._packets = packets
        self._closing: set[asyncio.Task[None]] = set()
        self._join_deadlines: dict[str, asyncio.TimerHandle] = {}
        # Told why each connection was closed here (``slow_reader``, ``bad_packet``...): for the metrics.
        self.on_close: Callable[[str], None] = lambda reason: None
        # Told of each Engine.IO connection as it opens (before any of its packets) and once it is gone.
        self.on_open: Callable[[str, dict[str, Any]], Awaitable[None]] = _nothing_to_do
        self.on_gone: Callable[[str], Awaitable[None]] = _nothing_to_do

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        await super()._handle_eio_connect(eio_sid, environ)
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None:
            bucket = PacketBucket(self._packets.rate, self._packets.burst)
            BoundedSocket.bound(socket, bucket, self._close_soon)
        self._join_within(eio_sid)
        await self.on_open(eio_sid, environ)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        try:
            await super()._handle_eio_disconnect(eio_sid, reason)
        finally:
            if deadline := self._join_deadlines.pop(eio_sid, None):
                deadline.cancel()
            await self.on_gone(eio_sid)

    async def _handle_disconnect(self, eio_sid: str, namespace: str | None, reason: Any = None) -> None:
        await super()._handle_disconnect(eio_sid, namespace, reason)
        self._join_within(eio_sid)  # left the room (its 41 packet): not a reason to stay connected

    async def disconnect(self, sid: str, namespace: str | None = None, ignore_queue: bool = False) -> None:
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace or "/")
        await super().disconnect(sid, namespace, ignore_queue)
        if eio_sid is not None:  # a client that does not close when told to is closed
            self._join_within(eio_sid)

    def _join_within(self, eio_sid: str) -> None:
        """Closes the connection unless it is in the namespace ``join_within_s`` from now."""
        if eio_sid not in self.eio.sockets:
            return
        if deadline := self._join_deadlines.pop(eio_sid, None):
            deadline.cancel()
        loop = asyncio.get_running_loop()
        self._join_deadlines[eio_sid] = loop.call_later(
            self._packets.join_within_s, self._unless_joined, eio_sid
        )

    def _unless_joined(self, eio_sid: str) -> None:
        self._join_deadlines.pop(eio_sid, None)
        if self.manager.sid_from_eio_sid(eio_sid, "/") is None:
            self._close_soon(eio_sid, "not_joined")

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        socket = self.eio.sockets.get(eio_sid)
        if socket is None or socket.closing or socket.closed:
            return  # what a closed client still had on the wire
        try:
            await super()._handle_eio_message(eio_sid, data)
        except Exception as error:
            # python-socketio decodes and dispatches a packet before any handler sees it: "42", "42[]", "42{}" or
            # JSON nested too deep raise there (TypeError, IndexError, KeyError, RecursionError...). One line,
            # no traceback: the connection is closed, so a client gets the server to write this once.
            self._binary_packet.pop(eio_sid, None)
            log.warning("closing connection %s: bad packet (%s: %s)", eio_sid, type(error).__name__,
                        str(error)[:120])  # fmt: skip
            self._close_soon(eio_sid, "bad_packet")

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        if self._keeps_up(eio_sid):
            await super()._send_packet(eio_sid, pkt)

    async def _send_eio_packet(self, eio_sid: str, eio_pkt: Any) -> None:
        """Every emit (to a room or one client) comes through here."""
        if self._keeps_up(eio_sid):
            await super()._send_eio_packet(eio_sid, eio_pkt)

    def queue_of(self, eio_sid: str) -> asyncio.Queue[Any] | None:
        """The send queue of a client that keeps up (None for one gone or just disconnected as a slow reader)."""
        return self.eio.sockets[eio_sid].queue if self._keeps_up(eio_sid) else None

    def _keeps_up(self, eio_sid: str) -> bool:
        socket = self.eio.sockets.get(eio_sid)
        if socket is None or socket.closed or socket.closing:
            return False
        if socket.queue.qsize() >= self._client_queue_max:
            log.warning("closing connection %s: it stopped reading (%d messages waiting)", eio_sid,
                        socket.queue.qsize())  # fmt: skip
            self._close_soon(eio_sid, "slow_reader")
            return False
        return True

    def _close_soon(self, eio_sid: str, reason: str) -> None:
        """Close without waiting for the client to read anything (it may never); the disconnect handlers run
        outside of whatever emit or receive found the problem."""
        socket = self.eio.sockets.get(eio_sid)
        if socket is None or socket.closing or socket.closed:
            return
        self.on_close(reason)

        async def close() -> None:
            await socket.close(wait=False, abort=True)
            self.eio.sockets.pop(eio_sid, None)
            # Ends the socket's writer, which closes the WebSocket itself (one stuck writing to a client that
            # reads nothing is ended by the WebSocket's ping timeout instead).
            socket.queue.put_nowait(None)

        task = asyncio.ensure_future(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
