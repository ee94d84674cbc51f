"""Liveness, and Prometheus metrics on the public port only for whoever holds ``CAPTIONS_METRICS_TOKEN`` (the
internal listener, ``CAPTIONS_METRICS_PORT``, is the usual way to scrape)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from captions.gateway.problems import Problem
from captions.gateway.services import Services, services

router = APIRouter(tags=["operations"])
Deps = Annotated[Services, Depends(services)]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(deps: Deps, authorization: Annotated[str | None, Header()] = None) -> Response:
    token = deps.settings.metrics_token
    if not token:
        raise Problem(404, "Not found", code="not_found")
    if not hmac.compare_digest((authorization or "").encode(), f"Bearer {token}".encode()):
        raise Problem(401, "Metrics need a token", "send Authorization: Bearer <CAPTIONS_METRICS_TOKEN>",
                      code="unauthorized", headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return Response(generate_latest(deps.metrics.registry), media_type=CONTENT_TYPE_LATEST)
