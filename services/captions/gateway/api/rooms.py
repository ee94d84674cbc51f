"""Rooms, their sessions and the QR code of the viewer link."""

from __future__ import annotations

import io
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Header, Path, Request, Response, status

from captions.gateway.problems import Problem
from captions.gateway.services import Services, services
from captions.protocol import (
    DEFAULT_NOTICE,
    EmbedOrigins,
    RoomCreate,
    RoomCreated,
    RoomInfo,
    RoomRotate,
    RoomRotated,
    SessionInfo,
)
from captions.recognizers.catalog import not_configured, unsupported
from captions.rooms.service import key_matches, may_view
from captions.roomstate.base import OPEN_STATES
from captions.store.base import RoomRecord

router = APIRouter(prefix="/api/rooms", tags=["rooms"])
RoomIdPath = Annotated[str, Path(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Deps = Annotated[Services, Depends(services)]


PresenterKey = Annotated[str | None, Header(description="The room's presenter key.")]
ViewerToken = Annotated[str | None, Header(description="A private room's viewer token.")]


def base_url(request: Request, deps: Services) -> str:
    """Where links and QR codes point: the configured public URL, or this request's host if it is one of
    the allowed hosts (a bare Host header would let anyone make the server hand out links to their site)."""
    settings = deps.settings
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = request.headers.get("host", "")
    if host_allowed(host, settings.allowed_hosts):
        return f"{request.url.scheme}://{host}"
    raise Problem(
        400,
        "Untrusted host",
        "links are built from CAPTIONS_PUBLIC_URL or a host in CAPTIONS_ALLOWED_HOSTS; this request's host is "
        "neither",
        code="untrusted_host",
    )


def host_allowed(host: str, allowed: list[str]) -> bool:
    name = host[: host.find("]") + 1] if host.startswith("[") else host.split(":", 1)[0]
    return "*" in allowed or name.lower() in {entry.lower() for entry in allowed}


def link_token(token: str | None) -> str:
    """A private room's viewer token goes after ``#``: browsers never send a fragment, so no server or proxy
    logs it."""
    return f"#token={token}" if token else ""


async def existing_room(room_id: str, deps: Services) -> RoomRecord:
    record = await deps.store.get_room(room_id)
    if record is None:
        raise Problem(404, "Room not found", f"there is no room {room_id!r}", code="unknown_room")
    return record


async def viewable_room(room_id: str, token: str | None, key: str | None, deps: Services) -> RoomRecord:
    """A room whose captions the caller may see: any public room, a private one with its token."""
    record = await existing_room(room_id, deps)
    if not may_view(record, token, key):
        raise Problem(
            403, "Private room", "send the room's viewer token in X-Viewer-Token", code="private_room"
        )
    return record


async def viewable(
    room_id: RoomIdPath, deps: Deps, x_viewer_token: ViewerToken = None, x_presenter_key: PresenterKey = None
) -> RoomRecord:
    return await viewable_room(room_id, x_viewer_token, x_presenter_key, deps)


# A room whose captions the request may see (the dependency of every viewer-facing endpoint).
Viewable = Annotated[RoomRecord, Depends(viewable)]


async def creating_organizer(authorization: str | None, deps: Services) -> str:
    """Whose room a new room is: the organizer the request's bearer token names, "" for an anonymous room
    where the server allows those. A token that names nobody (mistyped, revoked) is refused, never ignored."""
    if authorization is None:
        if deps.settings.room_creation == "organizers":
            raise Problem(401, "Organizer token required", "this server creates rooms for its organizers only: "
                          "send yours as Authorization: Bearer <token>", code="organizer_required",
                          headers={"WWW-Authenticate": 'Bearer realm="captions"'})  # fmt: skip
        return ""
    organizer = await deps.organizers.holding(authorization)
    if organizer is None:
        raise Problem(401, "Unknown organizer token", "the organizer token is not valid here (mistyped, or "
                      "revoked): ask the operator for a new one", code="bad_organizer_token",
                      headers={"WWW-Authenticate": 'Bearer realm="captions", error="invalid_token"'})  # fmt: skip
    return organizer.id


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RoomCreated)
async def create_room(
    body: RoomCreate,
    request: Request,
    deps: Deps,
    authorization: Annotated[str | None, Header(description="Bearer <organizer token>.")] = None,
) -> RoomCreated:
    """Create a room. The presenter key (and a private room's viewer token) are in this response only."""
    # Rooms per address are limited in front of the app (``RequestGate``): a flood is refused unparsed.
    organizer = await creating_organizer(authorization, deps)
    base = base_url(request, deps)
    recognizer = body.recognizer or "local"
    why = not_configured(deps.settings, recognizer)
    if why:
        raise Problem(422, "Recogniser not configured", why, code="recognizer_not_configured")
    why = unsupported(deps.settings, recognizer, body.language)
    if why:
        raise Problem(422, "Language not transcribed here", why, code="unsupported_language")
    record, key, token = await deps.rooms.create(body, organizer)
    return RoomCreated(
        id=record.id,
        title=record.title,
        language=record.language,
        private=token is not None,
        presenter_key=key,
        viewer_token=token,
        viewer_url=f"{base}/r/{record.id}{link_token(token)}",
        embed_url=f"{base}/embed/{record.id}{link_token(token)}",
    )


@router.get("/{room_id}", response_model=RoomInfo)
async def room_info(record: Viewable, deps: Deps) -> RoomInfo:
    status = await deps.sessions.statuses.room_status(record.id)
    return RoomInfo(
        id=record.id,
        title=record.title,
        language=record.language,
        private=bool(record.viewer_token_hash),
        created_at=record.created_at,
        live=status.session in OPEN_STATES,
        viewers=status.viewers,
        notice=record.notice or DEFAULT_NOTICE,
        recognizer=record.recognizer,
        has_transcript=await deps.store.latest_session(record.id) is not None,
    )


@router.get("/{room_id}/sessions", response_model=list[SessionInfo])
async def room_sessions(record: Viewable, deps: Deps) -> list[SessionInfo]:
    """Past and current sessions, oldest first."""
    room_id = record.id
    status = await deps.sessions.statuses.room_status(room_id)
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


async def presenters_room(room_id: str, key: str | None, deps: Services) -> RoomRecord:
    record = await existing_room(room_id, deps)
    if not key_matches(record, key):
        raise Problem(
            403, "Wrong presenter key", "send the room's presenter key in X-Presenter-Key", code="bad_key"
        )
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


@router.post("/{room_id}/rotate", response_model=RoomRotated)
async def rotate_secrets(
    room_id: RoomIdPath, body: RoomRotate, request: Request, deps: Deps, x_presenter_key: PresenterKey = None
) -> RoomRotated:
    """Replace the presenter key and/or a private room's viewer token (header ``X-Presenter-Key``): whoever
    holds an old one is disconnected now and refused from now on. The new ones are in this response only."""
    record = await presenters_room(room_id, x_presenter_key, deps)
    if not (body.presenter_key or body.viewer_token):
        raise Problem(
            422, "Nothing to rotate", "ask for presenter_key, viewer_token or both", code="nothing_to_rotate"
        )
    if body.viewer_token and not record.viewer_token_hash:
        raise Problem(
            422, "Public room", "a public room has no viewer token: anyone may view it", code="public_room"
        )
    base = base_url(request, deps) if body.viewer_token else ""
    key, token = await deps.rooms.rotate(record, body.presenter_key, body.viewer_token)
    await deps.sessions.rotated(room_id)
    return RoomRotated(
        presenter_key=key,
        viewer_token=token,
        viewer_url=f"{base}/r/{room_id}{link_token(token)}" if token else None,
        embed_url=f"{base}/embed/{room_id}{link_token(token)}" if token else None,
    )


@router.delete("/{room_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_room(room_id: RoomIdPath, deps: Deps, x_presenter_key: PresenterKey = None) -> Response:
    """Delete a room with its sessions and transcripts (header ``X-Presenter-Key``)."""
    await presenters_room(room_id, x_presenter_key, deps)
    # The store first: from here on every write for the room is refused, whatever is still in flight.
    await deps.store.delete_room(room_id)
    await deps.sessions.delete_room(room_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{room_id}/qr.{kind}", response_class=Response)
async def viewer_qr(
    room_id: RoomIdPath,
    kind: str,
    request: Request,
    deps: Deps,
    x_viewer_token: ViewerToken = None,
    x_presenter_key: PresenterKey = None,
) -> Response:
    """The viewer link as a QR code (``qr.svg`` or ``qr.png``); a private room's needs its viewer token, and
    the code then carries it."""
    if kind not in ("svg", "png"):
        raise Problem(404, "Not found", "QR codes come as qr.svg or qr.png", code="not_found")
    record = await viewable_room(room_id, x_viewer_token, x_presenter_key, deps)
    token = x_viewer_token if record.viewer_token_hash and may_view(record, x_viewer_token) else None
    if record.viewer_token_hash and token is None:
        raise Problem(400, "Viewer token needed", "a private room's QR code carries its viewer token: send it "
                      "in X-Viewer-Token", code="private_room")  # fmt: skip
    code = segno.make(f"{base_url(request, deps)}/r/{room_id}{link_token(token)}", error="m")
    out = io.BytesIO()
    code.save(out, kind=kind, scale=8, border=2)
    media = "image/svg+xml" if kind == "svg" else "image/png"
    # Private: the link depends on the configured URL and, for private rooms, a secret; never in shared caches.
    return Response(out.getvalue(), media_type=media, headers={"Cache-Control": "private, max-age=300"})
