// A host page on another origin embeds the widget with one script tag; the widget must show the room's live
// captions, resize its iframe through postMessage, and show the first caption within 1 s of loading.
// Usage: node embed-widget.mjs SERVER_URL ROOM_ID "expected words" ARTIFACT_DIR   -> one JSON line on stdout
import http from "node:http";
import { mkdirSync } from "node:fs";
import { launch, normalise, waitUntil } from "./chromium.mjs";

const [server, room, expected, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });

const host = http.createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  response.end(`<!doctype html><html><head><title>Event page</title></head><body style="font-family:sans-serif">
    <h1>Annual conference, live</h1><div style="background:#333;height:180px">[video player]</div>
    <script src="${server}/embed.js" data-room="${room}" data-lines="3" data-theme="dark" data-size="24"></script>
    <p>Below the captions.</p></body></html>`);
});
await new Promise((resolve) => host.listen(0, "127.0.0.1", resolve));
const hostUrl = `http://127.0.0.1:${host.address().port}/`;

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  const socketUrls = [];
  page.on("websocket", (socket) => socketUrls.push(socket.url()));
  const started = Date.now();
  await page.goto(hostUrl);
  const frameElement = await page.waitForSelector("iframe", { timeout: 5000 });
  const initialHeight = await frameElement.evaluate((el) => el.style.height);
  const frame = await waitUntil(async () => frameElement.contentFrame(), 5000, "the iframe");
  const text = () => frame.evaluate(() => document.querySelector(".flow")?.textContent ?? "");
  await waitUntil(async () => (await text()).trim().length > 0, 10000, "a first caption");
  const firstCaptionMs = Date.now() - started;
  const wanted = normalise(expected);
  await waitUntil(async () => {
    const seen = new Set(normalise(await text()));
    return wanted.every((word) => seen.has(word));
  }, 60000, `the words "${expected}"`);
  const widgetHeight = () => frame.evaluate(() => Math.ceil(document.getElementById("captions").getBoundingClientRect().height));
  const resized = await waitUntil(
    async () => {
      const [outer, inner] = [await frameElement.evaluate((el) => el.getBoundingClientRect().height), await widgetHeight()];
      return Math.abs(outer - inner) <= 1 ? { outer, inner } : null;
    },
    5000,
    "the iframe to take the widget's height",
  );
  await page.screenshot({ path: `${artifacts}/embed-host-page.png`, fullPage: true });
  const frameOrigin = new URL(frame.url()).origin;
  console.log(JSON.stringify({ firstCaptionMs, text: await text(), initialHeight, resized, frameOrigin, hostUrl, socketUrls }));
} finally {
  await browser.close();
  host.close();
}
