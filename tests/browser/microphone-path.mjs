// One recording through the presenter console's real microphone path: Chromium's fake microphone plays the WAV,
// the AudioWorklet resamples it to 16 kHz PCM16, the server transcribes it. Prints the finals the presenter saw
// once the talk ended, to compare with the same PCM sent directly (the microphone path's own accuracy).
// Usage: node microphone-path.mjs SERVER_URL SPEECH_WAV SECONDS   -> one JSON line on stdout
import { launchWithMicrophone, waitUntil } from "./chromium.mjs";

const [server, wav, seconds] = process.argv.slice(2);
const browser = await launchWithMicrophone(wav);
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server}/`);
  await page.fill("#title", "Microphone path");
  await page.click("form button[type=submit]");
  await page.waitForURL(/\/present\//);
  await page.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  await page.click("button.start");
  // The whole recording heard (its audio time on the console), then a second of the silence after it.
  await waitUntil(async () => {
    const [minutes, secs] = (await page.textContent(".session time")).split(":").map(Number);
    return minutes * 60 + secs >= Number(seconds) + 1 ? true : null;
  }, (Number(seconds) + 30) * 1000, "the recording played");
  await page.click("button.stop");
  await page.waitForSelector(".summary", { timeout: 60000 });
  const text = await page.evaluate(() => [...document.querySelectorAll(".preview .final")].map((b) => b.textContent).join(" "));
  console.log(JSON.stringify({ text }));
} finally {
  await browser.close();
}
