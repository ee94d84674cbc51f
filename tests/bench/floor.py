"""The floor of fan-out: bare python-socketio on uvicorn, doing only what a room's delivery needs (join a room,
emit each caption to it; a presenter's Start is answered, to it alone), answering the same clients as
``captions serve``. The benchmarks run it beside the product in the same run and report the product's delivery
latency as a ratio of this floor's.

It serves WebSockets with the same uvicorn implementation as the product (``websockets-sansio``), so the ratio
measures what the product's own path costs, not a choice of library. Given a Redis URL it runs as one node of
several, through python-socketio's own ``AsyncRedisManager``: the floor for gateways that share rooms on Redis.

``python -m tests.bench.floor PORT [REDIS_URL]`` serves until killed.
"""

from __future__ import annotations

import sys
from typing import Any

import socketio
import uvicorn


def floor_app(redis_url: str | None = None) -> socketio.ASGIApp:
    manager = socketio.AsyncRedisManager(redis_url) if redis_url else None
    server = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[], client_manager=manager)
    rooms: dict[str, str] = {}

    @server.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any]) -> None:
        rooms[sid] = auth["room"]
        await server.enter_room(sid, auth["room"])

    @server.event  # type: ignore[untyped-decorator]
    async def disconnect(sid: str, reason: Any = None) -> None:
        rooms.pop(sid, None)

    @server.event  # type: ignore[untyped-decorator]
    async def start(sid: str) -> None:
        await server.emit("status", {"session": "live"}, to=sid)

    @server.event  # type: ignore[untyped-decorator]
    async def text(sid: str, data: dict[str, Any]) -> None:
        caption = {"id": "s:0", "kind": data["kind"], "text": data["text"], "start": 0.0, "end": 0.0,
                   "session_id": "s"}  # fmt: skip
        await server.emit("caption", caption, room=rooms[sid])

    return socketio.ASGIApp(server)


if __name__ == "__main__":
    uvicorn.run(
        floor_app(sys.argv[2] if len(sys.argv) > 2 else None),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        ws="websockets-sansio",
    )
