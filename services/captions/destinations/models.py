"""What a presenter sends to set a room's destinations, and what it is told of them (REST and Socket.IO).

Caption URLs, secrets and passwords are write-only: they are in the request that sets them and nowhere else
(``DestinationView`` shows a masked ``target``)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field

from captions.protocol import Model


def _web_address(value: str) -> str:
    """An absolute http(s) URL with a host and nothing that would make a request go elsewhere than it says."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError("a URL without user name or password")
    if any(ord(character) < 33 for character in value):
        raise ValueError("a URL without spaces or control characters")
    return value


WebAddress = Annotated[str, Field(min_length=10, max_length=2048), AfterValidator(_web_address)]


class ZoomDestination(Model):
    """Zoom's third-party closed captioning: the meeting's caption URL (its API token), copied from Zoom."""

    kind: Literal["zoom"]
    url: WebAddress
    lang: str = Field(default="en-US", pattern=r"^[a-z]{2,3}-[A-Z]{2}$", description="Caption language.")


class YouTubeDestination(Model):
    """YouTube Live's HTTP caption ingestion: the stream's caption ingestion URL."""

    kind: Literal["youtube"]
    url: WebAddress


class ObsDestination(Model):
    """OBS Studio's obs-websocket 5 server (Tools > WebSocket Server Settings)."""

    kind: Literal["obs"]
    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]+$")
    port: int = Field(default=4455, ge=1, le=65535)
    password: str = Field(default="", max_length=256)


class WebhookDestination(Model):
    """A URL that receives each caption line as JSON, signed with ``secret`` (HMAC-SHA256)."""

    kind: Literal["webhook"]
    url: WebAddress
    secret: str = Field(min_length=16, max_length=256)


Destination = Annotated[
    ZoomDestination | YouTubeDestination | ObsDestination | WebhookDestination, Field(discriminator="kind")
]
DestinationKind = Literal["zoom", "youtube", "obs", "webhook"]
DestinationState = Literal["ok", "retrying", "failed"]


class KeptDestination(Model):
    """A destination of the room's list kept as it is, named by its ``id``: its presenter need not (and cannot:
    they are never shown again) send its URL, secret or password again to keep it."""

    keep: str = Field(pattern=r"^[0-9a-f]{16}$")


class DestinationsUpdate(Model):
    """``PUT /api/rooms/{id}/destinations``: the room's whole list (it replaces the last; ``[]`` removes all)."""

    destinations: list[Destination | KeptDestination] = Field(max_length=32)


class DestinationView(Model):
    """One destination as its presenter sees it: never its URL's token, secret or password."""

    id: str
    kind: DestinationKind
    target: str = Field(description="Where it goes, masked (a host, never a token).")
    state: DestinationState = Field(
        description="ok: delivering (or waiting for captions); retrying: its last sends failed, it is tried "
        "again with back-off; failed: it kept failing and is no longer tried (save the list to try again)."
    )
    error: str = Field(default="", description="What went wrong last, while retrying or failed.")


class Destinations(Model):
    """``GET``/``PUT /api/rooms/{id}/destinations``, and the ``destinations`` event to the presenter when a
    destination's state changes."""

    destinations: list[DestinationView]


DESTINATION_MODELS: dict[str, type[BaseModel]] = {
    "destinations-update": DestinationsUpdate,
    "destinations": Destinations,
}
