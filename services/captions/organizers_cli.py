"""``captions organizers``: the operator adds, lists and revokes who may create rooms."""

from __future__ import annotations

import argparse
import asyncio
import sys

from captions.settings import Settings


def add_organizers_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    organizers = commands.add_parser(
        "organizers", help="who may create rooms when CAPTIONS_ROOM_CREATION=organizers"
    )
    organizer_actions = organizers.add_subparsers(dest="action", required=True)
    add = organizer_actions.add_parser("add", help="add an organizer; prints their token once")
    add.add_argument("name")
    organizer_actions.add_parser("list", help="every organizer, revoked ones too, with what they store")
    revoke = organizer_actions.add_parser("revoke", help="revoke an organizer's token")
    revoke.add_argument("name")
    organizers.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_manage(args))


async def _manage(args: argparse.Namespace) -> int:
    from captions.rooms.organizers import Organizers
    from captions.store.factory import open_store

    store = await open_store(Settings())
    organizers = Organizers(store.organizers)
    try:
        if args.action == "add":
            try:
                record, token = await organizers.add(args.name)
            except ValueError as error:
                print(f"captions: {error}", file=sys.stderr)
                return 2
            print(
                f"Organizer {record.name!r} added. Their token (shown this once; keep it secret):",
                file=sys.stderr,
            )
            print(token, flush=True)
        elif args.action == "list":
            for record in await organizers.all():
                state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "active"
                used = await store.organizers.stored_bytes(record.id)
                print(
                    f"{record.name}\t{state}\tsince {record.created_at:%Y-%m-%d}\t{used / 1e6:.1f} MB stored"
                )
        elif not await organizers.revoke(args.name):
            print(f"captions: no active organizer is named {args.name!r}", file=sys.stderr)
            return 2
        else:
            print(f"Organizer {args.name!r} revoked: their token creates no more rooms.", file=sys.stderr)
    finally:
        await store.close()
    return 0
