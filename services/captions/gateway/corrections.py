"""A presenter's correction: one final, or a sentence said over several finals replaced by one text."""

from __future__ import annotations

from captions.bus.events import RoomEvent, RoomEvents
from captions.gateway.catchup import to_caption
from captions.gateway.guard import ClientError
from captions.protocol import MAX_CORRECTED_FINALS, Correction, parse_caption_id
from captions.store.base import Store


async def apply_correction(store: Store, events: RoomEvents, room_id: str, correction: Correction) -> None:
    """Stored first (two writes, whatever the range), then told to the room in one event: the first final gets
    the text, the rest of the range becomes empty (viewers and exports drop empty finals), so the sentence
    reads once."""
    first, *rest = corrected_ids(correction)
    record = await store.correct(room_id, first, correction.text.strip())
    if record is None:
        raise ClientError("unknown_caption", f"this room has no final caption {first!r}")
    await store.blank(room_id, rest)
    update = {"kind": "correction", "through": rest[-1] if rest else None}
    await events.publish(RoomEvent.caption(room_id, to_caption(record).model_copy(update=update)))


async def heard_text(store: Store, correction: Correction) -> str:
    """What the recogniser wrote in the finals a correction replaces (read before it replaces them)."""
    ids = corrected_ids(correction)
    first = parse_caption_id(ids[0])
    if first is None:
        return ""
    session_id, seq = first
    records = await store.captions(session_id, after_seq=seq - 1, limit=len(ids))
    return " ".join(record.text for record in records if record.id in ids)


def corrected_ids(correction: Correction) -> list[str]:
    """The finals a correction replaces, in order: ``id`` alone, or ``id`` through ``through`` of one session."""
    if correction.through is None or correction.through == correction.id:
        return [correction.id]
    first, last = parse_caption_id(correction.id), parse_caption_id(correction.through)
    if first is None or last is None or first[0] != last[0] or last[1] < first[1]:
        raise ClientError(
            "bad_range", "a correction's range runs from a final to a later one of the same session"
        )
    if last[1] - first[1] >= MAX_CORRECTED_FINALS:
        raise ClientError("bad_range", f"one correction replaces at most {MAX_CORRECTED_FINALS} finals")
    return [f"{first[0]}:{seq}" for seq in range(first[1], last[1] + 1)]
