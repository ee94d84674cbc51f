"""A Socket.IO connection that closes is freed as it closes, not at the cycle collector's next pass: a room's
audience comes and goes by the thousand, and each pass over what closed connections left held the event loop
for tens of milliseconds with captions waiting."""

from __future__ import annotations

import gc

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from tests.support.harness import Server, until, viewer


def server_connections() -> int:
    """Server-side WebSocket connections still in memory, collectable garbage included."""
    return sum(isinstance(thing, WebSocketsSansIOProtocol) for thing in gc.get_objects())


async def test_closed_connections_are_freed_without_the_cycle_collector(server: Server) -> None:
    room = await server.create_room()
    gc.collect()
    gc.disable()
    try:
        before = server_connections()  # any of another server of this test process
        audience = [viewer(server, room["id"]) for _ in range(5)]
        for client in audience:
            await client.connect()
        assert server_connections() >= before + len(audience)
        for client in audience:
            await client.disconnect()
        await until(
            lambda: server_connections() == before, "closed connections freed without a collection", 10
        )
    finally:
        gc.enable()


async def test_connections_leave_no_cycles_of_the_servers_making(server: Server) -> None:
    """Nothing of the server's side of a connection (the request Engine.IO was given, a class made for it) is
    left for the cycle collector: what one leaves, a handshake storm leaves by the ten thousand a pass."""
    room = await server.create_room()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        before = server_connections()
        audience = [viewer(server, room["id"]) for _ in range(5)]
        for client in audience:
            await client.connect()
        for client in audience:
            await client.disconnect()
        await until(lambda: server_connections() == before, "closed connections freed", 10)
        gc.collect()
        servers = ("captions.", "engineio.", "socketio.", "uvicorn.", "starlette.", "fastapi.")
        left = [
            thing
            for thing in gc.garbage
            if isinstance(thing, type) or type(thing).__module__.startswith(servers)
        ]
        assert left == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
