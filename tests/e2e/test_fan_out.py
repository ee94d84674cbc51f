"""A room's events reach its viewers without work per viewer beyond one queue put each."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
import socketio

from tests.support.harness import Client, Server, presenter, viewer


async def every_caption_reached(member: Client, count: int) -> None:
    await member.wait_for(lambda: len(member.finals) == count)


async def five_captions_to_three_viewers(server: Server) -> None:
    """A presenter's five finals, each reaching all three viewers of the room, in order."""
    room = await server.create_room()
    speaker = await presenter(server, room).connect()
    audience = [await viewer(server, room["id"]).connect() for _ in range(3)]
    for index in range(5):
        await speaker.emit("text", {"kind": "final", "text": f"Caption number {index}."})
    for member in audience:
        await every_caption_reached(member, 5)
        assert [c["text"] for c in member.finals] == [f"Caption number {i}." for i in range(5)]
    for client in (speaker, *audience):
        await client.disconnect()


async def test_a_caption_is_encoded_once_and_queued_for_every_viewer_without_a_task_each(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # python-socketio's own room emit makes a task per recipient: most of what a caption to a thousand
    # viewers cost. The gateway's emit must never fall back to it for captions.
    per_recipient: list[str] = []
    library_emit = socketio.AsyncManager.emit

    async def counted(manager: Any, event: str, *args: Any, **kwargs: Any) -> None:
        per_recipient.append(event)
        await library_emit(manager, event, *args, **kwargs)

    monkeypatch.setattr(socketio.AsyncManager, "emit", counted)
    await five_captions_to_three_viewers(server)
    assert "caption" not in per_recipient, per_recipient


async def test_a_viewers_writer_waits_for_its_next_message_without_a_task_each(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Engine.IO's writer waited for each message through asyncio.wait_for, a task per wait: per viewer and
    # caption, and three turns of the event loop before a byte went out.
    waited_for: list[str] = []
    library_wait_for = asyncio.wait_for

    async def counted(awaitable: Any, *args: Any, **kwargs: Any) -> Any:
        if sys._getframe(1).f_code.co_filename.endswith("engineio/async_socket.py"):  # the server's sockets
            waited_for.append(getattr(awaitable, "__qualname__", type(awaitable).__name__))
        return await library_wait_for(awaitable, *args, **kwargs)

    monkeypatch.setattr(asyncio, "wait_for", counted)
    await five_captions_to_three_viewers(server)
    assert "Queue.get" not in waited_for, waited_for
