// The widget's whole-transcript view applies a presenter's correction of a sentence said over several finals:
// one event, after which the sentence reads once.
// Usage: node embed-correction.mjs SERVER_URL ROOM_ID "corrected text"   -> one JSON line on stdout
import { launch, waitUntil } from "./chromium.mjs";

const [server, room, corrected] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`${server}/embed/${room}?lines=all`);
  const shown = () => page.evaluate(() => document.querySelector(".flow").textContent.replace(/\s+/g, " ").trim());
  await waitUntil(async () => (await shown()) === corrected, 20000, `the corrected text "${corrected}"`);
  console.log(JSON.stringify({ text: await shown() }));
} finally {
  await browser.close();
}
