"""The floor of fan-out: bare python-socketio on uvicorn, doing only what a room's delivery needs (join a room,
emit each caption to it), answering the same clients as ``captions serve``. The server benchmark runs it beside
the product in the same run and reports the product's delivery latency as a ratio of this floor's.

``python -m tests.bench.floor PORT`` serves until killed.
"""

from __future__ import annotations

import sys
from typing import Any

import socketio
import uvicorn


def floor_app() -> socketio.ASGIApp:
    server = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[])
    rooms: dict[str, str] = {}

    @server.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any]) -> None:
        rooms[sid] = auth["room"]
        await server.enter_room(sid, auth["room"])

    @server.event  # type: ignore[untyped-decorator]
    async def disconnect(sid: str, reason: Any = None) -> None:
        rooms.pop(sid, None)

    @server.event  # type: ignore[untyped-decorator]
    async def text(sid: str, data: dict[str, Any]) -> None:
        caption = {"id": "s:0", "kind": data["kind"], "text": data["text"], "start": 0.0, "end": 0.0,
                   "session_id": "s"}  # fmt: skip
        await server.emit("caption", caption, room=rooms[sid])

    return socketio.ASGIApp(server)


if __name__ == "__main__":
    uvicorn.run(floor_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
