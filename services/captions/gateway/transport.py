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
from collections.abc import Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

log = logging.getLogger(__name__)
MAX_ATTACHMENTS = 1


class TooManyAttachments(ValueError):
    pass


class BoundedPacket(packet.Packet):  # type: ignore[misc]
    def decode(self, encoded_packet: Any) -> int:
        count: int = super().decode(encoded_packet)
        if count > MAX_ATTACHMENTS:
            raise TooManyAttachments(f"a packet declared {count} binary attachments")
        return count


class RoomManager(socketio.AsyncManager):  # type: ignore[misc]
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
    def __init__(self, *, client_queue_max: int, **options: Any) -> None:
        super().__init__(serializer=BoundedPacket, client_manager=RoomManager(), **options)
        self._client_queue_max = client_queue_max
        self._closing: set[asyncio.Task[None]] = set()
        # Told why each connection was closed here (``slow_reader``, ``bad_packet``): for the metrics.
        self.on_close: Callable[[str], None] = lambda reason: None

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        socket = self.eio.sockets.get(eio_sid)
        if socket is None or socket.closing or socket.closed:
            return  # what a closed client still had on the wire
        try:
            await super()._handle_eio_message(eio_sid, data)
        except ValueError as error:  # malformed or oversized packets (handlers never raise: they answer)
            self._binary_packet.pop(eio_sid, None)
            log.warning("closing connection %s: %s", eio_sid, str(error)[:120])
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
