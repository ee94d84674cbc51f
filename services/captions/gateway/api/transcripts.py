"""Transcripts of a session, or of a room's latest session, as VTT, SRT, TXT or JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from captions.exports import MEDIA_TYPES, Cue, TranscriptFormat, render
from captions.gateway.api.rooms import Viewable
from captions.gateway.problems import Problem
from captions.gateway.services import Services, services

router = APIRouter(prefix="/api/rooms", tags=["transcripts"])
Deps = Annotated[Services, Depends(services)]
SessionIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


async def transcript(room_id: str, session_id: str, fmt: TranscriptFormat, deps: Services) -> Response:
    records = await deps.store.captions(session_id)
    cues = [Cue(r.id, r.start, r.end, r.text) for r in records]
    filename = f"captions-{room_id}-{session_id}.{fmt}"
    return Response(
        render(cues, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/{room_id}/sessions/{session_id}/transcript.{fmt}", response_class=Response)
async def session_transcript(
    room: Viewable, session_id: SessionIdPath, fmt: TranscriptFormat, deps: Deps
) -> Response:
    room_id = room.id
    if session_id not in {s.id for s in await deps.store.sessions(room_id)}:
        raise Problem(404, "Session not found", f"room {room_id!r} has no session {session_id!r}")
    return await transcript(room_id, session_id, fmt, deps)


@router.get("/{room_id}/transcript.{fmt}", response_class=Response)
async def latest_transcript(room: Viewable, fmt: TranscriptFormat, deps: Deps) -> Response:
    """The transcript of the room's latest session (the live one while it runs)."""
    room_id = room.id
    sessions = await deps.store.sessions(room_id)
    if not sessions:
        raise Problem(404, "No session yet", "this room has not been live yet")
    return await transcript(room_id, sessions[-1].id, fmt, deps)
