"""A room's destinations (presenter key required): where its captions are sent on besides its own viewers.

Caption URLs, secrets and passwords come in with ``PUT`` and never go out again: they are sealed before they
are stored, and ``GET`` (like every other answer, log line and export) shows a masked target only."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from fastapi import APIRouter

from captions.destinations.addresses import DestinationRefused, resolve
from captions.destinations.models import (
    Destination,
    Destinations,
    DestinationsUpdate,
    DestinationView,
    KeptDestination,
    ObsDestination,
)
from captions.gateway.api.rooms import Deps, PresenterKey, RoomIdPath, presenters_room
from captions.gateway.problems import Problem
from captions.store.base import DestinationRecord

router = APIRouter(prefix="/api/rooms", tags=["destinations"])


@router.get("/{room_id}/destinations", response_model=Destinations)
async def room_destinations(
    room_id: RoomIdPath, deps: Deps, x_presenter_key: PresenterKey = None
) -> Destinations:
    """The room's destinations with their live state (ok / retrying with the last error / failed)."""
    await presenters_room(room_id, x_presenter_key, deps)
    stored = await deps.store.destinations.of_room(room_id)
    return Destinations(destinations=[_view(record) for record in stored])


@router.put("/{room_id}/destinations", response_model=Destinations)
async def set_destinations(
    room_id: RoomIdPath, body: DestinationsUpdate, deps: Deps, x_presenter_key: PresenterKey = None
) -> Destinations:
    """Replace the room's list. Each target must be on the public internet (unless the server allows private
    addresses); ``{"keep": id}`` keeps an entry as it is (its secrets are never sent back to be sent again).
    Entries already in the list keep their place in the talk, and a failed one is tried again."""
    await presenters_room(room_id, x_presenter_key, deps)
    settings = deps.settings
    if len(body.destinations) > settings.max_destinations:
        raise Problem(
            422,
            "Too many destinations",
            f"a room may send its captions to {settings.max_destinations} destinations at most",
            code="too_many_destinations",
        )
    stored = {record.id: record for record in await deps.store.destinations.of_room(room_id)}
    records: dict[str, DestinationRecord] = {}
    for number, destination in enumerate(body.destinations, start=1):
        if isinstance(destination, KeptDestination):
            kept = stored.get(destination.keep)
            if kept is None:
                raise Problem(
                    422,
                    "Unknown destination",
                    f"destination {number}: the room has no destination {destination.keep!r} to keep",
                    code="invalid_request",
                )
            records.setdefault(kept.id, replace(kept, position=len(records)))
            continue
        await _check_reachable(number, destination, settings.destinations_allow_private)
        config = destination.model_dump()
        destination_id = deps.sealer.name(config)
        records.setdefault(
            destination_id,
            DestinationRecord(
                room_id,
                destination_id,
                len(records),
                destination.kind,
                deps.sealer.seal(config),
                _target(destination),
            ),
        )
    await deps.store.destinations.replace(room_id, list(records.values()))
    await deps.sessions.destinations_changed(room_id)
    saved = await deps.store.destinations.of_room(room_id)
    return Destinations(destinations=[_view(record) for record in saved])


async def _check_reachable(number: int, destination: Destination, allow_private: bool) -> None:
    if isinstance(destination, ObsDestination):
        host, port = destination.host.strip("[]"), destination.port
    else:
        parts = urlsplit(destination.url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        await resolve(host, port, allow_private)
    except DestinationRefused as refused:
        raise Problem(
            422,
            "Destination refused",
            f"destination {number} ({destination.kind}): {refused}",
            code="destination_refused",
        ) from refused


def _target(destination: Destination) -> str:
    """What may be shown of where it goes: the host, never the path or query that carry a token."""
    if isinstance(destination, ObsDestination):
        return f"{destination.host}:{destination.port}"
    return urlsplit(destination.url).hostname or ""


def _view(record: DestinationRecord) -> DestinationView:
    return DestinationView(
        id=record.id,
        kind=record.kind,
        target=record.target,
        state=record.state,
        error=record.error,
    )
