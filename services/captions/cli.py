"""The ``captions`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from captions.allocator import settle_allocator
from captions.collector import settle_collector
from captions.exports import Cue, TranscriptFormat, render
from captions.organizers_cli import add_organizers_command
from captions.settings import Settings


def _transcribe(args: argparse.Namespace) -> int:
    from captions.asr.model import load_model
    from captions.asr.offline import transcribe_offline
    from captions.asr.words import join_words
    from captions.audio.pcm import load_audio

    settings = Settings()
    segments = transcribe_offline(load_model(settings), settings, load_audio(args.file))
    cues = [
        Cue(str(number), words[0].start, words[-1].end, join_words(words))
        for number, words in enumerate((s for s in segments if s), start=1)
    ]
    sys.stdout.write(render(cues, args.format))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from captions.asr.engine import Engine
    from captions.audio.pcm import load_audio
    from captions.protocol import SAMPLE_RATE
    from captions.simulation import TimedEvent, simulate

    audio = load_audio(args.file)
    engine = Engine(Settings())
    total = len(audio) / SAMPLE_RATE
    quiet = args.json or total < 30 or not sys.stderr.isatty()
    bar = tqdm(
        total=round(total, 1),
        bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s",
        disable=quiet,
        file=sys.stderr,
        leave=False,
    )

    def show(item: TimedEvent) -> None:
        if args.json:
            print(json.dumps(item.as_json(), ensure_ascii=False), flush=True)
            return
        e = item.event
        line = f"{item.emitted_at:7.2f}s {e.kind:7} #{e.id:<3} latency {item.latency:5.2f}s  {e.text}"
        bar.write(line) if not bar.disable else print(line, flush=True)

    def progress(seconds: float) -> None:
        bar.update(seconds)

    try:
        asyncio.run(simulate(engine, audio, realtime=args.realtime, on_event=show, on_progress=progress))
    finally:
        bar.close()
        engine.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    return _web_server(args, scale_out=False)


def _gateway(args: argparse.Namespace) -> int:
    return _web_server(args, scale_out=True)


def _web_server(args: argparse.Namespace, *, scale_out: bool) -> int:
    import logging

    import uvicorn

    from captions.composition import gateway_app, serve_app, server_config

    settings = _server_settings(args)
    _settle_memory(settings)
    if scale_out and not settings.redis_url:
        print("captions: the gateway needs Redis: set REDIS_URL", file=sys.stderr)
        return 2
    what = "Captions gateway" if scale_out else "Live captions"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    docs = "  (API docs: /docs)" if settings.api_docs else ""
    print(f"{what} on http://{settings.host}:{settings.port}{docs}", flush=True)
    app = gateway_app(settings) if scale_out else serve_app(settings)
    uvicorn.Server(server_config(app, settings)).run()
    return 0


def _transcriber(args: argparse.Namespace) -> int:
    import logging

    from captions.transcriber.service import run_transcriber

    settings = _server_settings(args)
    _settle_memory(settings)
    if not settings.redis_url:
        print("captions: the transcriber needs Redis: set REDIS_URL", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_transcriber(settings))
    return 0


def _settle_memory(settings: Settings) -> None:
    """A long-running server's allocator and cycle collector, set before it starts threads or connections."""
    settle_allocator(settings.malloc_arenas)
    settle_collector(settings.gc_young_objects)


def _server_settings(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    return Settings(**overrides)


def _stack(args: argparse.Namespace) -> int:
    import os
    import shutil

    from captions.edge.stack import Stack

    honcho = shutil.which("honcho", path=str(Path(sys.executable).parent)) or shutil.which("honcho")
    for program in ("nginx", "redis-server", "openssl"):
        if not (shutil.which(program) or Path(f"/usr/sbin/{program}").exists()):
            print(f"captions: the stack needs {program} (make stack installs it)", file=sys.stderr)
            return 2
    if honcho is None:
        print(
            "captions: the stack needs honcho (pip install honcho; make stack installs it)", file=sys.stderr
        )
        return 2
    stack = Stack(
        folder=args.folder.resolve(),
        gateways=args.gateways,
        transcribers=args.transcribers,
        redis_cluster=args.redis_cluster,
        port=args.port,
        http_port=args.http_port,
        service_port=args.service_port,
        redis_port=args.redis_port,
    )
    procfile = stack.write()
    if args.prepare:
        print(f"{procfile}; certificate: {stack.folder / 'tls' / 'cert.pem'}")
        return 0
    print(f"captions stack on {stack.url} (certificate: {stack.folder / 'tls' / 'cert.pem'})", flush=True)
    # The stack's own settings, never the developer's: each process gets its port and name in the Procfile.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAPTIONS_")} | stack.environment()
    os.execve(honcho, [honcho, "start", "-f", str(procfile), "-d", str(Path.cwd())], environment)


def _redis_cluster(args: argparse.Namespace) -> int:
    from captions.edge.redis_cluster import form_and_watch

    form_and_watch(args.ports)
    return 0


def _wait_for_redis(_: argparse.Namespace) -> int:
    from captions.edge.redis_cluster import wait_for_redis

    settings = Settings()
    wait_for_redis(settings.redis_url, settings.redis_cluster)
    return 0


def _export_schemas(args: argparse.Namespace) -> int:
    from captions.schemas import SCHEMA_DIR, stale_schemas, write_schemas

    if args.check:
        stale = stale_schemas()
        for name in stale:
            print(
                f"captions: {SCHEMA_DIR / name} is out of date; run `captions export-schemas`",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for name in write_schemas():
        print(SCHEMA_DIR / name)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="captions", description="Live captions: streaming Whisper for rooms."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    transcribe = commands.add_parser("transcribe", help="transcribe a recording to captions (offline)")
    transcribe.add_argument("file", type=Path)
    transcribe.add_argument("--format", choices=get_args(TranscriptFormat), default="vtt")
    transcribe.set_defaults(run=_transcribe)

    simulate = commands.add_parser("simulate", help="stream a recording through the live engine")
    simulate.add_argument("file", type=Path)
    simulate.add_argument("--realtime", action="store_true", help="pace frames like a microphone")
    simulate.add_argument("--json", action="store_true", help="one JSON object per caption event on stdout")
    simulate.set_defaults(run=_simulate)

    servers = {
        "serve": ("run the captions server (one process: gateway + transcriber)", _serve),
        "gateway": ("run a gateway: web app, REST and Socket.IO on Redis; no model", _gateway),
        "transcriber": ("run a transcriber on Redis: takes live rooms, publishes captions", _transcriber),
    }
    for name, (summary, run) in servers.items():
        server = commands.add_parser(name, help=summary)
        server.add_argument("--host", help="interface to listen on (default: CAPTIONS_HOST or 127.0.0.1)")
        server.add_argument("--port", type=int, help="port (default: CAPTIONS_PORT or 8000)")
        server.set_defaults(run=run)

    stack = commands.add_parser(
        "stack", help="run the scaled-out deployment here: Redis, gateways, transcribers, nginx (make stack)"
    )
    stack.add_argument("--gateways", type=int, default=2)
    stack.add_argument("--transcribers", type=int, default=1)
    stack.add_argument("--redis-cluster", action="store_true", help="a Redis Cluster of 6 nodes")
    stack.add_argument("--port", type=int, default=8443, help="nginx's HTTPS port")
    stack.add_argument("--http-port", type=int, default=8080, help="nginx's HTTP port (redirects to HTTPS)")
    stack.add_argument(
        "--service-port", type=int, default=8101, help="first gateway's port (then the others)"
    )
    stack.add_argument("--redis-port", type=int, default=6390, help="Redis's port (the cluster's first node)")
    stack.add_argument("--folder", type=Path, default=Path("data/stack"), help="certificate, logs, data")
    stack.add_argument(
        "--prepare", action="store_true", help="write the certificate, nginx site and Procfile only"
    )
    stack.set_defaults(run=_stack)

    cluster = commands.add_parser(
        "redis-cluster", help="form a Redis Cluster of loopback nodes, then watch it"
    )
    cluster.add_argument("ports", type=int, nargs="+")
    cluster.set_defaults(run=_redis_cluster)

    wait = commands.add_parser(
        "wait-for-redis", help="wait until REDIS_URL answers (a cluster: serves every slot)"
    )
    wait.set_defaults(run=_wait_for_redis)

    add_organizers_command(commands)

    schemas = commands.add_parser(
        "export-schemas", help="write the protocol's JSON Schemas to shared/schemas"
    )
    schemas.add_argument("--check", action="store_true", help="fail if the checked-in schemas are stale")
    schemas.set_defaults(run=_export_schemas)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "file", None) is not None and not args.file.is_file():
        print(f"captions: no such file: {args.file}", file=sys.stderr)
        return 2
    from captions.audio.pcm import AudioFormatError

    try:
        code: int = args.run(args)
    except AudioFormatError as error:
        print(f"captions: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
