"""Transcripts of a session, or of a room's latest session, as VTT, SRT, TXT or JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import StreamingResponse

from captions.exports import MEDIA_TYPES, Cue, TranscriptFormat, TranscriptWriter
from captions.gateway.api.rooms import Viewable
from captions.gateway.problems import Problem
from captions.gateway.services import Services, services
from captions.store.base import Store

router = APIRouter(prefix="/api/rooms", tags=["transcripts"])
Deps = Annotated[Services, Depends(services)]
PAGE_FINALS = 500
SessionIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


async def transcript(room_id: str, session_id: str, fmt: TranscriptFormat, deps: Services) -> Response:
    filename = f"captions-{room_id}-{session_id}.{fmt}"
    return StreamingResponse(
        _pages(deps.store, session_id, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"},
    )


async def _pages(store: Store, session_id: str, fmt: TranscriptFormat) -> AsyncIterator[str]:
    """The transcript read and sent a page of finals at a time: a talk of any length costs a download the
    memory of one page, and the store one indexed range read per page."""
    writer = TranscriptWriter(fmt)
    yield writer.start()
    after = -1
    while page := await store.captions(session_id, after_seq=after, limit=PAGE_FINALS):
        after = page[-1].seq
        yield writer.add(Cue(r.id, r.start, r.end, r.text) for r in page)
        if len(page) < PAGE_FINALS:
            break
    yield writer.finish()


@router.get("/{room_id}/sessions/{session_id}/transcript.{fmt}", response_class=Response)
async def session_transcript(
    room: Viewable, session_id: SessionIdPath, fmt: TranscriptFormat, deps: Deps
) -> Response:
    room_id = room.id
    if session_id not in {s.id for s in await deps.store.sessions(room_id)}:
        raise Problem(
            404,
            "Session not found",
            f"room {room_id!r} has no session {session_id!r}",
            code="unknown_session",
        )
    return await transcript(room_id, session_id, fmt, deps)


@router.get("/{room_id}/transcript.{fmt}", response_class=Response)
async def latest_transcript(room: Viewable, fmt: TranscriptFormat, deps: Deps) -> Response:
    """The transcript of the room's latest session (the live one while it runs)."""
    room_id = room.id
    sessions = await deps.store.sessions(room_id)
    if not sessions:
        raise Problem(404, "No session yet", "this room has not been live yet", code="no_session_yet")
    return await transcript(room_id, sessions[-1].id, fmt, deps)
