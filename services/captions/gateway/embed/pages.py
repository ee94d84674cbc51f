"""The embeddable widget: ``/embed.js`` for host pages, ``/embed/{room}`` for the iframe it inserts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from captions.gateway.api.rooms import RoomIdPath
from captions.gateway.embed.options import EmbedOptions
from captions.gateway.services import Services, services
from captions.protocol import DEFAULT_NOTICE
from captions.store.base import CaptionRecord

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
router = APIRouter(tags=["embed"])
Deps = Annotated[Services, Depends(services)]
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))
# A live widget shows the last few lines; the page starts with enough finals to fill them without waiting.
RENDERED_FINALS_PER_LINE = 3
# The whole-transcript view starts with the newest finals up to this many (a day-long talk would be megabytes
# of page); the earlier ones are a link away, in the transcript download, which is read page by page.
TRANSCRIPT_VIEW_FINALS = 500


def content_security_policy(embed_origins: tuple[str, ...]) -> str:
    ancestors = " ".join(("'self'", *embed_origins)) if embed_origins else "*"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
        f"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    )


@router.get("/embed.js", include_in_schema=False)
async def embed_script() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "embed.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/embed/{room_id}", response_class=HTMLResponse)
async def embed_page(room_id: RoomIdPath, request: Request, deps: Deps) -> Response:
    """The widget page. Query: lines (1-12 or all), theme, font, size, color, background, align, position."""
    record = await deps.store.get_room(room_id)
    if record is None:
        return HTMLResponse("<!doctype html><title>No such room</title><p>This room does not exist.</p>", 404)
    options = EmbedOptions.from_query(request.query_params)
    # A private room's token is in the fragment, out of the server's sight: its page carries nothing of the
    # room, and the widget receives the captions once its connection shows the token.
    private = bool(record.viewer_token_hash)
    finals = [] if private else await _finals_to_show(deps, room_id, options)
    earlier = options.lines is None and len(finals) > TRANSCRIPT_VIEW_FINALS
    finals = finals[-TRANSCRIPT_VIEW_FINALS:] if options.lines is None else finals
    response = templates.TemplateResponse(
        request,
        "embed.html",
        {
            "room": record,
            "private": private,
            "options": options,
            "finals": finals,
            "earlier": earlier,
            "notice": DEFAULT_NOTICE if private else record.notice or DEFAULT_NOTICE,
        },
        headers={
            "Content-Security-Policy": content_security_policy(record.embed_origins),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )
    return response


@router.get("/r/{room_id}", include_in_schema=False)
async def viewer_page(room_id: RoomIdPath) -> RedirectResponse:
    """The viewer link where the Angular app is not built: the full, live transcript view instead."""
    return RedirectResponse(f"/embed/{room_id}?lines=all&theme=dark&size=26&align=left", status_code=307)


async def _finals_to_show(deps: Services, room_id: str, options: EmbedOptions) -> list[CaptionRecord]:
    if options.lines is not None:
        session_id = (await deps.sessions.statuses.room_status(room_id)).session_id
        if session_id is None:
            return []
        return await deps.store.last_captions(session_id, options.lines * RENDERED_FINALS_PER_LINE)
    latest = await deps.store.latest_session(room_id)
    return await deps.store.last_captions(latest.id, TRANSCRIPT_VIEW_FINALS + 1) if latest else []
