"""REST reads and embed pages limited per address in the gateway itself (as nginx does in front of it): a
scraping loop gets 429 problems before each of its requests costs a store read, and nobody else notices."""

from __future__ import annotations

import time
from collections.abc import Callable

from captions.gateway.app import CALM_DOWNLOAD_BURST, CALM_DOWNLOAD_RATE
from tests.abuse.conftest import PROCESS_DOWNLOADS_BURST, PROCESS_DOWNLOADS_RATE, READS_BURST, READS_RATE
from tests.support.abuse import AbuseTarget

Address = Callable[[], str]
STORMING_ADDRESSES, DOWNLOADS_EACH = 12, 30  # each address under its own reads rate


async def test_a_scraping_loop_is_refused_per_address_and_others_read_on(
    target: AbuseTarget, address: Address
) -> None:
    room = await target.create_room(address())
    paths = [f"/api/rooms/{room['id']}", f"/api/rooms/{room['id']}/transcript.json", f"/embed/{room['id']}"]
    tries, refusals = 3 * READS_BURST, []
    async with target.http(address()) as http:
        started = time.monotonic()
        for n in range(tries):
            answer = await http.get(paths[n % len(paths)])
            if answer.status_code == 429:
                refusals.append(answer)
        allowed = READS_BURST + READS_RATE * (time.monotonic() - started)  # however slow the machine
    assert len(refusals) >= tries - allowed - 1, f"{len(refusals)} of {tries} refused"
    problem = refusals[-1]
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert problem.json()["code"] == "rate_limited"
    assert int(problem.headers["Retry-After"]) >= 1
    async with target.http(address()) as http:  # another address reads on
        assert (await http.get(paths[0])).status_code == 200


async def test_a_download_storm_from_many_addresses_shares_one_rate_and_a_calm_reader_is_served(
    target: AbuseTarget, address: Address
) -> None:
    """Each storming address stays under its own reads rate; together they are held to the process's rate for
    what renders finals, past which they get 429, while an address that reads calmly is never held."""
    room = await target.create_room(address())
    speaker = await target.presenter(room, address()).connect()
    await speaker.emit("text", {"kind": "final", "text": "Worth downloading."})
    await speaker.wait_for(lambda: bool(speaker.finals))
    await speaker.disconnect()
    transcript = f"/api/rooms/{room['id']}/transcript.vtt"
    storm = [target.http(address()) for _ in range(STORMING_ADDRESSES)]
    answers = []
    started = time.monotonic()
    try:
        for _ in range(DOWNLOADS_EACH):
            answers += [await http.get(transcript) for http in storm]
    finally:
        for http in storm:
            await http.aclose()
    elapsed = time.monotonic() - started  # what the buckets refilled meanwhile, however slow the machine
    served_at_most = (
        PROCESS_DOWNLOADS_BURST
        + PROCESS_DOWNLOADS_RATE * elapsed
        + STORMING_ADDRESSES * (CALM_DOWNLOAD_BURST + CALM_DOWNLOAD_RATE * elapsed)
    )
    refusals = [answer for answer in answers if answer.status_code == 429]
    assert len(refusals) >= len(answers) - served_at_most - 1, f"{len(refusals)} of {len(answers)} refused"
    assert refusals[-1].json()["code"] == "rate_limited"
    async with target.http(address()) as calm:
        served = await calm.get(transcript)
    assert served.status_code == 200, "a calm reader is served during the storm"
    assert "Worth downloading." in served.text
