"""What the request handlers need, built in the app's lifespan and kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from captions.destinations.sealing import Sealer
from captions.gateway.sessions import Sessions
from captions.metrics import Metrics
from captions.rooms.organizers import Organizers
from captions.rooms.service import RoomService
from captions.settings import Settings
from captions.store.base import Store


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    rooms: RoomService
    sessions: Sessions
    metrics: Metrics
    organizers: Organizers
    sealer: Sealer


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
