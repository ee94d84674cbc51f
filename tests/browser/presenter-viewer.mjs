// The whole product in a real browser: a presenter creates a room and speaks through Chromium's fake microphone
// (a WAV of real speech); a viewer on a phone-sized screen reads along, reloads mid-talk, and ends with the
// full transcript. Then the browser-recognition mode, with a scripted SpeechRecognition (Chromium's needs a
// cloud service this machine cannot reach).
// Usage: node presenter-viewer.mjs SERVER_URL SPEECH_WAV ARTIFACT_DIR   -> one JSON line on stdout
import { mkdirSync, writeFileSync } from "node:fs";
import { launchWithMicrophone, normalise, waitUntil } from "./chromium.mjs";

const [server, wav, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

const cspViolations = [];
/** Every page runs under the app's Content-Security-Policy: anything it refuses is a bug. */
function watch(page) {
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
  });
  return page;
}

/** Create a room through the home page; the app opens its presenter console. Returns the room id. */
async function createRoom(page, title, { privateRoom = false } = {}) {
  watch(page);
  await page.goto(`${server}/`);
  await page.fill("#title", title);
  if (privateRoom) await page.check("input[name=private]");
  await page.click("form button[type=submit]");
  await page.waitForURL(/\/present\//);
  await page.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  return new URL(await page.inputValue("#viewer-link")).pathname.split("/").pop();
}

const browser = await launchWithMicrophone(wav);
const result = {};
try {
  const presenterContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  // A copy of every frame the capture worklet hands the console, to compare with the recording it played.
  await presenterContext.addInitScript(() => {
    const Native = window.AudioWorkletNode;
    window.sentPcm = [];
    window.AudioWorkletNode = class extends Native {
      constructor(...args) {
        super(...args);
        this.port.addEventListener("message", ({ data }) => data?.pcm && window.sentPcm.push(data.pcm.slice(0)));
      }
    };
  });
  const presenter = await presenterContext.newPage();
  result.room = await createRoom(presenter, "Browser test talk");
  const viewerUrl = await presenter.inputValue("#viewer-link");

  const viewerContext = await browser.newContext(PHONE);
  const viewer = watch(await viewerContext.newPage());
  result.viewerSocketUrls = [];
  viewer.on("websocket", (socket) => result.viewerSocketUrls.push(socket.url()));
  await viewer.goto(viewerUrl);
  await viewer.waitForSelector("app-connection-badge.connected", { timeout: 10000 });

  const talkStarted = Date.now();
  await presenter.click("button.start");
  const viewerText = () => viewer.evaluate(() => [...document.querySelectorAll(".final")].map((p) => p.textContent).join(" "));
  await waitUntil(async () => normalise(await viewerText()).length >= 8, 30000, "the viewer's first words");
  result.firstWordsAfterMs = Date.now() - talkStarted;
  await viewer.screenshot({ path: `${artifacts}/viewer-phone.png` });

  // Mid-talk reload: the viewer must come back with everything, nothing twice.
  await viewer.reload();
  await viewer.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  result.afterReload = await viewerText();
  await presenter.screenshot({ path: `${artifacts}/presenter-console.png` });

  const wavSeconds = Number(process.env.WAV_SECONDS || "35");
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wavSeconds * 1000 + 2500 - (Date.now() - talkStarted))));
  await presenter.click("button.stop");
  const transcript = async () => (await (await fetch(`${server}/api/rooms/${result.room}/transcript.txt`)).text()).trim();
  let stored = "";
  await waitUntil(async () => {
    const [now, seen] = [await transcript(), await viewerText()];
    const settled = now && now === stored && normalise(now).join(" ") === normalise(seen).join(" ");
    stored = now;
    return settled;
  }, 20000, "the viewer to hold the whole stored transcript");
  result.viewerText = await viewerText();
  result.transcript = stored;
  result.presenterText = await presenter.evaluate(() =>
    [...document.querySelectorAll("app-caption-preview .final")].map((line) => line.textContent).join(" "),
  );
  await viewer.screenshot({ path: `${artifacts}/viewer-phone-end.png`, fullPage: false });
  const sent = await presenter.evaluate(() => {
    const bytes = new Uint8Array(window.sentPcm.reduce((n, frame) => n + frame.byteLength, 0));
    let at = 0;
    for (const frame of window.sentPcm) bytes.set(new Uint8Array(frame), (at += frame.byteLength) - frame.byteLength);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 32768) binary += String.fromCharCode(...bytes.subarray(i, i + 32768));
    return btoa(binary);
  });
  writeFileSync(`${artifacts}/microphone-sent.pcm`, Buffer.from(sent, "base64"));

  // Browser recognition: a scripted SpeechRecognition stands in for the cloud service.
  const speechContext = await browser.newContext();
  await speechContext.addInitScript(() => {
    class ScriptedRecognition {
      start() {
        const say = (isFinal, text, delay) => setTimeout(() => this.onresult?.({ resultIndex: 0, results: [{ isFinal, 0: { transcript: text } }] }), delay);
        say(false, "hello every", 200);
        say(true, "Hello everyone, welcome to the keynote.", 500);
      }
      stop() {}
    }
    window.SpeechRecognition = window.webkitSpeechRecognition = ScriptedRecognition;
  });
  // ...in a private room: the viewer link carries the token after #, and nothing opens without it.
  const speaker = await speechContext.newPage();
  const room = await createRoom(speaker, "Browser recognition", { privateRoom: true });
  result.privateLink = await speaker.inputValue("#viewer-link");
  const outsider = watch(await viewerContext.newPage());
  await outsider.goto(`${server}/r/${room}`);
  await outsider.waitForSelector(".notice.refused", { timeout: 10000 });
  result.privateRefused = await outsider.textContent(".notice.refused");
  const reader = watch(await viewerContext.newPage());
  await reader.goto(result.privateLink);
  await reader.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  await speaker.check("input[value=browser]");
  await speaker.click("button.start");
  await reader.waitForSelector(".final", { timeout: 10000 });
  result.browserRecognition = await reader.evaluate(() => document.querySelector(".final")?.textContent?.trim());

  // Without the Web Speech API the mode is hidden and explained.
  const plain = await browser.newContext();
  await plain.addInitScript(() => {
    delete window.webkitSpeechRecognition;
    delete window.SpeechRecognition;
  });
  const noSpeech = await plain.newPage();
  await createRoom(noSpeech, "No speech API");
  result.unsupportedNote = await noSpeech.textContent("fieldset.mode .note");
  result.browserModeOffered = (await noSpeech.$("input[value=browser]")) !== null;
  const page = await fetch(`${server}/r/${room}`);
  result.appCsp = page.headers.get("content-security-policy");
} finally {
  await browser.close();
}
result.cspViolations = cspViolations;
console.log(JSON.stringify(result));
