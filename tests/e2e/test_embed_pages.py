"""The embeddable widget's pages: escaping, query parameters, CSP, page weight, embedding origins."""

from __future__ import annotations

import gzip
import re

from tests.support.harness import Server, presenter

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</style><b>bold</b>"]


async def room_with_hostile_captions(server: Server) -> dict[str, str]:
    async with server.http() as http:
        room: dict[str, str] = (await http.post("/api/rooms", json={"title": '<b>"Keynote"</b>'})).json()
    speaker = await presenter(server, room).connect()
    for text in HOSTILE:
        await speaker.emit("text", {"kind": "final", "text": text})
    await speaker.wait_for(lambda: len(speaker.finals) == len(HOSTILE))
    await speaker.disconnect()
    return room


async def test_caption_text_and_titles_are_escaped(server: Server) -> None:
    room = await room_with_hostile_captions(server)
    async with server.http() as http:
        page = (await http.get(f"/embed/{room['id']}?lines=all")).text
        live = (await http.get(f"/embed/{room['id']}")).text
    for hostile in [*HOSTILE, '<b>"Keynote"</b>']:
        assert hostile not in page
        assert hostile not in live
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;&#34;Keynote&#34;&lt;/b&gt;" in page
    assert page.count('class="final"') == len(HOSTILE), "the transcript view lists every final"
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/embed-assets/widget.js" defer>']


async def test_bad_query_values_fall_back_to_defaults(server: Server) -> None:
    room = await server.create_room()
    hostile = (
        "?lines=999&theme=%22%3E%3Cscript%3E&font=evil&size=12px;}body{display:none&color=red;x:expression(1)"
        "&background=%23zzz&align=%3Cb%3E&position=middle&parent=javascript:alert(1)"
    )
    async with server.http() as http:
        bad = (await http.get(f"/embed/{room['id']}{hostile}")).text
        default = (await http.get(f"/embed/{room['id']}")).text
        chosen = (
            await http.get(
                f"/embed/{room['id']}?lines=4&theme=light&font=serif&size=40&color=%23ff0&background=%23102030"
                "&align=left&position=top&parent=https://events.example:8443"
            )
        ).text
    assert bad == default
    assert 'class="theme-light align-left position-top live"' in chosen
    assert (
        "--caption-size: 40px; --caption-color: #ff0; --caption-background: #102030; --caption-lines: 4;"
        in chosen
    )
    assert 'data-parent="https://events.example:8443"' in chosen
    assert "Georgia" in chosen


async def test_frame_ancestors_follow_the_rooms_embedding_origins(server: Server) -> None:
    room = await server.create_room()
    async with server.http() as http:
        open_csp = (await http.get(f"/embed/{room['id']}")).headers["content-security-policy"]
        assert "frame-ancestors *" in open_csp
        assert "script-src 'self'" in open_csp
        body = {"origins": ["https://events.example", "http://localhost:8080"]}
        refused = await http.put(f"/api/rooms/{room['id']}/embed-origins", json=body)
        assert refused.status_code == 403
        bad = await http.put(
            f"/api/rooms/{room['id']}/embed-origins",
            json={"origins": ["https://ok.example; script-src *"]},
            headers={"X-Presenter-Key": room["presenter_key"]},
        )
        assert bad.status_code == 422
        saved = await http.put(
            f"/api/rooms/{room['id']}/embed-origins",
            json=body,
            headers={"X-Presenter-Key": room["presenter_key"]},
        )
        assert saved.json() == body
        csp = (await http.get(f"/embed/{room['id']}")).headers["content-security-policy"]
    assert "frame-ancestors 'self' https://events.example http://localhost:8080" in csp


async def test_the_widget_weighs_under_60_kb_gzipped(server: Server) -> None:
    room = await server.create_room()
    total = 0
    async with server.http() as http:
        for path in (
            f"/embed/{room['id']}",
            "/embed-assets/widget.js",
            "/embed-assets/widget.css",
            "/embed.js",
        ):
            response = await http.get(path)
            assert response.status_code == 200, path
            total += len(gzip.compress(response.content))
        missing = await http.get("/embed/no-such-room")
    assert total < 60 * 1024, total
    assert missing.status_code == 404
    assert "does not exist" in missing.text


async def test_the_viewer_link_opens_the_live_transcript(server: Server) -> None:
    room = await room_with_hostile_captions(server)
    async with server.http() as http:
        page = await http.get(room["viewer_url"].removeprefix(server.url), follow_redirects=True)
    assert page.status_code == 200
    assert page.text.count('class="final"') == len(HOSTILE)
