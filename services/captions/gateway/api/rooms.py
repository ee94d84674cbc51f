"""Rooms, their sessions and the QR code of the viewer link."""

from __future__ import annotations

import io
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Header, Path, Request, Response, status

from captions.gateway.problems import Problem
from captions.gateway.services import Services, services
from captions.protocol import EmbedOrigins, RoomCreate, RoomCreated, RoomInfo, SessionInfo
from captions.rooms.service import key_matches
from captions.roomstate.base import OPEN_STATES
from captions.store.base import RoomRecord

router = APIRouter(prefix="/api/rooms", tags=["rooms"])
RoomIdPath = Annotated[str, Path(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Deps = Annotated[Services, Depends(services)]


def base_url(request: Request, deps: Services) -> str:
    return (deps.settings.public_url or str(request.base_url)).rstrip("/")


async def existing_room(room_id: str, deps: Services) -> RoomRecord:
    record = await deps.store.get_room(room_id)
    if record is None:
        raise Problem(404, "Room not found", f"there is no room {room_id!r}")
    return record


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RoomCreated)
async def create_room(body: RoomCreate, request: Request, deps: Deps) -> RoomCreated:
    """Create a room. The presenter key is in this response only: keep it."""
    record, key = await deps.rooms.create(body)
    base = base_url(request, deps)
    return RoomCreated(
        id=record.id,
        title=record.title,
        language=record.language,
        presenter_key=key,
        viewer_url=f"{base}/r/{record.id}",
        embed_url=f"{base}/embed/{record.id}",
    )


@router.get("/{room_id}", response_model=RoomInfo)
async def room_info(room_id: RoomIdPath, deps: Deps) -> RoomInfo:
    record = await existing_room(room_id, deps)
    status = await deps.sessions.room_status(room_id)
    return RoomInfo(
        id=record.id,
        title=record.title,
        language=record.language,
        created_at=record.created_at,
        live=status.session in OPEN_STATES,
        viewers=status.viewers,
    )


@router.get("/{room_id}/sessions", response_model=list[SessionInfo])
async def room_sessions(room_id: RoomIdPath, deps: Deps) -> list[SessionInfo]:
    """Past and current sessions, oldest first."""
    await existing_room(room_id, deps)
    status = await deps.sessions.room_status(room_id)
    return [
        SessionInfo(
            id=s.id,
            room_id=s.room_id,
            started_at=s.started_at,
            ended_at=s.ended_at,
            state=status.session if status.session_id == s.id else s.state,
        )
        for s in await deps.store.sessions(room_id)
    ]


PresenterKey = Annotated[str | None, Header(description="The room's presenter key.")]


async def presenters_room(room_id: str, key: str | None, deps: Services) -> RoomRecord:
    record = await existing_room(room_id, deps)
    if not key_matches(record, key):
        raise Problem(403, "Wrong presenter key", "send the room's presenter key in X-Presenter-Key")
    return record


@router.put("/{room_id}/embed-origins", response_model=EmbedOrigins)
async def set_embed_origins(
    room_id: RoomIdPath, body: EmbedOrigins, deps: Deps, x_presenter_key: PresenterKey = None
) -> EmbedOrigins:
    """Which sites may embed the captions widget (presenter key required); an empty list allows any."""
    await presenters_room(room_id, x_presenter_key, deps)
    origins = tuple(dict.fromkeys(origin.rstrip("/") for origin in body.origins))
    await deps.store.set_embed_origins(room_id, origins)
    return EmbedOrigins(origins=list(origins))


@router.delete("/{room_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_room(room_id: RoomIdPath, deps: Deps, x_presenter_key: PresenterKey = None) -> Response:
    """Delete a room with its sessions and transcripts (header ``X-Presenter-Key``)."""
    await presenters_room(room_id, x_presenter_key, deps)
    # The store first: from here on every write for the room is refused, whatever is still in flight.
    await deps.store.delete_room(room_id)
    await deps.sessions.delete_room(room_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{room_id}/qr.{kind}", response_class=Response)
async def viewer_qr(room_id: RoomIdPath, kind: str, request: Request, deps: Deps) -> Response:
    """The viewer link as a QR code (``qr.svg`` or ``qr.png``)."""
    if kind not in ("svg", "png"):
        raise Problem(404, "Not found", "QR codes come as qr.svg or qr.png")
    await existing_room(room_id, deps)
    code = segno.make(f"{base_url(request, deps)}/r/{room_id}", error="m")
    out = io.BytesIO()
    code.save(out, kind=kind, scale=8, border=2)
    media = "image/svg+xml" if kind == "svg" else "image/png"
    return Response(out.getvalue(), media_type=media, headers={"Cache-Control": "public, max-age=3600"})
