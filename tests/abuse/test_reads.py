"""REST reads and embed pages limited per address in the gateway itself (as nginx does in front of it): a
scraping loop gets 429 problems before each of its requests costs a store read, and nobody else notices."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.abuse.conftest import READS_BURST, READS_RATE
from tests.support.abuse import AbuseTarget

Address = Callable[[], str]


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
