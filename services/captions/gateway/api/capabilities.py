"""What this server can transcribe: clients offer only that (a room's language, later its recogniser)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from captions.gateway.services import Services, services
from captions.protocol import Capabilities
from captions.recognizers.catalog import capabilities

router = APIRouter(prefix="/api", tags=["rooms"])
Deps = Annotated[Services, Depends(services)]


@router.get("/capabilities", response_model=Capabilities)
async def server_capabilities(deps: Deps) -> Capabilities:
    return capabilities(deps.settings)
