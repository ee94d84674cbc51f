"""The gateway's room manager keeps python-socketio's rooms exactly as python-socketio would, and a disconnect
looks only through the leaving client's own rooms, never every room of the namespace (one per client): a
reconnect storm's disconnects must not cost in proportion to everyone connected."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import socketio

from captions.gateway.transport import RoomManager

NAMESPACE = "/"


class WatchedRooms(dict[Any, Any]):
    """A namespace's rooms, counting every walk over all of them."""

    walks = 0

    def copy(self) -> dict[Any, Any]:
        self.walks += 1
        return dict(self)

    def items(self) -> Any:
        self.walks += 1
        return super().items()

    def __iter__(self) -> Iterator[Any]:
        self.walks += 1
        return super().__iter__()


def connect(manager: socketio.AsyncManager, number: int, pending: bool) -> str:
    sid = f"sid{number}"
    manager.basic_enter_room(sid, NAMESPACE, None, eio_sid=f"eio{number}")
    manager.basic_enter_room(sid, NAMESPACE, sid, eio_sid=f"eio{number}")
    if pending:
        manager.pending_connect.setdefault(NAMESPACE, []).append(sid)
    return sid


def test_a_disconnect_walks_none_of_the_other_clients_rooms() -> None:
    manager = RoomManager()
    watched = manager.rooms[NAMESPACE] = WatchedRooms()
    sids = [connect(manager, number, pending=False) for number in range(1000)]
    for sid in sids[:500]:
        manager.basic_enter_room(sid, NAMESPACE, "room-a")
    watched.walks = 0
    manager.basic_disconnect(sids[0], NAMESPACE)
    manager.basic_disconnect(sids[700], NAMESPACE)
    assert watched.walks == 0
    assert sids[0] not in manager.rooms[NAMESPACE]["room-a"]
    assert sids[0] not in manager.rooms[NAMESPACE]
    assert sids[700] not in manager.rooms[NAMESPACE]
    assert sids[0] not in manager.rooms[NAMESPACE][None]
    assert sids[1] in manager.rooms[NAMESPACE][None]


def test_rooms_are_kept_as_python_socketio_keeps_them() -> None:
    ours, theirs = RoomManager(), socketio.AsyncManager()
    chance = random.Random(7)
    connected: list[str] = []
    for step in range(3000):
        action = chance.random()
        if action < 0.35 or not connected:
            pending = chance.random() < 0.3
            connected.append(connect(ours, step, pending))
            connect(theirs, step, pending)
        elif action < 0.6:
            sid, room = chance.choice(connected), f"room-{chance.randrange(5)}"
            ours.basic_enter_room(sid, NAMESPACE, room)
            theirs.basic_enter_room(sid, NAMESPACE, room)
        elif action < 0.75:
            sid, room = chance.choice(connected), f"room-{chance.randrange(5)}"
            ours.basic_leave_room(sid, NAMESPACE, room)
            theirs.basic_leave_room(sid, NAMESPACE, room)
        else:
            sid = connected.pop(chance.randrange(len(connected)))
            if chance.random() < 0.2:
                ours.pending_disconnect.setdefault(NAMESPACE, []).append(sid)
                theirs.pending_disconnect.setdefault(NAMESPACE, []).append(sid)
            ours.basic_disconnect(sid, NAMESPACE)
            theirs.basic_disconnect(sid, NAMESPACE)
        assert ours.rooms == theirs.rooms
        assert ours.pending_connect == theirs.pending_connect
        assert ours.pending_disconnect == theirs.pending_disconnect
