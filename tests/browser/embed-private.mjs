// A private room's widget: a host page with the room's token (data-token) shows its captions; one without it
// shows that the room is private and nothing of it.
// Usage: node embed-private.mjs SERVER_URL ROOM_ID TOKEN   -> one JSON line on stdout
import http from "node:http";
import { launch, waitUntil } from "./chromium.mjs";

const [server, room, token] = process.argv.slice(2);
const tag = (extra) => `<script src="${server}/embed.js" data-room="${room}" data-lines="3"${extra}></script>`;
const pages = { "/member": tag(` data-token="${token}"`), "/outsider": tag("") };
const host = http.createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  response.end(`<!doctype html><html><head><title>Board portal</title></head><body>${pages[request.url] ?? ""}</body></html>`);
});
await new Promise((resolve) => host.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${host.address().port}`;

const browser = await launch();
const result = {};
try {
  for (const who of ["member", "outsider"]) {
    const page = await browser.newPage();
    await page.goto(`${base}/${who}`);
    const frameElement = await page.waitForSelector("iframe", { timeout: 5000 });
    const frame = await waitUntil(async () => frameElement.contentFrame(), 5000, "the iframe");
    const shown = () => frame.evaluate(() => document.getElementById("captions").innerText.trim());
    const settled = who === "member" ? (text) => text.includes("Confidential") : (text) => text.includes("private");
    await waitUntil(async () => settled(await shown()), 10000, `the ${who}'s widget`);
    result[who] = await shown();
  }
} finally {
  await browser.close();
  host.close();
}
console.log(JSON.stringify(result));
