"""Prometheus metrics of one process (its own registry: no module-level state).

No label ever carries a room id (or anything a client sent): a room id is all it takes to join a room and
read its transcript. Per-room figures are reported as the worst room."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.viewers = Gauge("captions_viewers", "Connected viewers", registry=self.registry)
        self.rooms_live = Gauge("captions_rooms_live", "Rooms with a live session", registry=self.registry)
        self.audio_seconds = Counter(
            "captions_audio_seconds_received", "Seconds of presenter audio received", registry=self.registry
        )
        self.caption_latency = Histogram(
            "captions_caption_latency_seconds",
            "Audio received after the end of a caption's words when it was emitted",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inference_rtf = Gauge(
            "captions_inference_realtime_factor_max",
            "Time spent recognising per second of audio over the session so far, in the worst live room",
            registry=self.registry,
        )
        self.transcription_lag = Gauge(
            "captions_transcription_lag_max_seconds",
            "Audio waiting to be recognised in the most delayed live room (how far behind its captions are)",
            registry=self.registry,
        )
        self.disconnected = Counter(
            "captions_clients_disconnected",
            "Clients the server disconnected to protect the others",
            ["reason"],
            registry=self.registry,
        )
        self.partials_skipped = Counter(
            "captions_partials_skipped",
            "Partial captions not sent because transcription was behind real time",
            registry=self.registry,
        )
        self.gated = Counter(
            "captions_gated_requests",
            "Handshakes and room creations that reached this process (admitted or refused by its own rates)",
            ["kind"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "captions_rejected_events",
            "Client events refused with an error",
            ["code"],
            registry=self.registry,
        )
