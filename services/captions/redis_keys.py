"""Where everything lives in Redis. Every key of a room carries the room id as a hash tag (``{ROOM}``), so on a
Redis Cluster a room's audio, lease, session, presence, events and limits share one slot: every atomic block on
a room is single-slot, and a room moves between nodes as a whole. The few global keys change only when a room
changes hands or a process comes or goes, never per audio frame.

Room ids are ``[A-Za-z0-9_-]`` (``protocol.RoomId``), so they cannot break out of the hash tag.
"""

from __future__ import annotations

PREFIX = "captions"


def room_key(room_id: str, part: str) -> str:
    return f"{PREFIX}:{{{room_id}}}:{part}"


def audio(room_id: str) -> str:
    """Stream: the room's input (audio frames, text, control), read by its transcriber's consumer group."""
    return room_key(room_id, "audio")


def backlog(room_id: str) -> str:
    """Integer: bytes of the room's input in its stream not settled yet (``RoomInputs.send_within`` bounds it)."""
    return room_key(room_id, "backlog")


def lease(room_id: str) -> str:
    """String: the name of the transcriber that owns the room (SET NX PX, renewed)."""
    return room_key(room_id, "lease")


def admitted(room_id: str) -> str:
    """List: the transcriber that took an offered room answers here; the offering gateway BLPOPs it."""
    return room_key(room_id, "admitted")


def session(room_id: str) -> str:
    """Hash: the room's current (or last) session."""
    return room_key(room_id, "session")


def presence(room_id: str) -> str:
    """Hash: each gateway's share of the room (presenter, viewers, until when it counts)."""
    return room_key(room_id, "presence")


def status(room_id: str) -> str:
    """String, with a TTL: a gateway will tell the room its next status (SET NX PX)."""
    return room_key(room_id, "status")


def deleted(room_id: str) -> str:
    """String, with a TTL: the room was deleted. Input and presence that arrive for it later (a frame in flight
    while it was deleted) are refused, so nothing of it is made again without an expiry."""
    return room_key(room_id, "deleted")


def events(room_id: str) -> str:
    """Stream: the room's events, capped by count and age, expiring once the room is idle."""
    return room_key(room_id, "events")


def events_seq(room_id: str) -> str:
    """String: the number of the room's last event."""
    return room_key(room_id, "events:seq")


def live_channel(room_id: str) -> str:
    """Sharded pub/sub channel: each event as it is published, with its number (same slot as the room)."""
    return room_key(room_id, "live")


# --- global keys: written when rooms change hands or processes come and go ---------------------------------

UNOWNED = f"{PREFIX}:unowned"  # set: rooms offered or orphaned, waiting for a transcriber
OFFERS = f"{PREFIX}:offers"  # sharded channel: a room was offered (a wake-up; UNOWNED is the truth)
LOAD = f"{PREFIX}:load"  # sorted set: transcribers by rooms owned
EXPIRY = f"{PREFIX}:sessions:expiry"  # sorted set: open sessions by when to look at them next


def owned(name: str) -> str:
    """Set: the rooms a transcriber owns (where its rooms are found when it dies)."""
    return f"{PREFIX}:owned:{{{name}}}"


def alive(name: str) -> str:
    return f"{PREFIX}:alive:{{{name}}}"
