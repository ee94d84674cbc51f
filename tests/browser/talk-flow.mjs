// A talk as its people live it, in a real browser: the presenter creates a room and speaks (a WAV as the
// microphone); a phone viewer sees Live, Paused, Live again; the presenter's network is cut (the browser
// offline) and back: the phone says so, then Live; the presenter's tab closes mid-talk and the phone
// and the embed widget say the presenter is reconnecting; the presenter comes back from its presenter link in a
// fresh browser (Live again on the phone) and stops: Ended with the transcript offered. The embed widget and a
// transparent overlay show the captions; axe-core checks home, presenter (its panels open too), viewer (its
// display settings open too), embed mid-talk and a presenter console another device took over (which takes it
// back). The presenter's layout on a laptop screen, and what the phone gives a screen reader to announce.
// Screenshots go to ARTIFACT_DIR (and to SCREENSHOT_DIR when given: `make screenshots` refreshes docs/images).
// Usage: node talk-flow.mjs SERVER_URL SPEECH_WAV ARTIFACT_DIR [SCREENSHOT_DIR]   -> one JSON line on stdout
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { audit, withAxe } from "./axe.mjs";
import { launchWithMicrophone, normalise, waitUntil } from "./chromium.mjs";

const [server, wav, artifacts, screenshots] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const result = { axe: {}, states: [] };

async function shot(page, name, options = {}) {
  const path = `${artifacts}/${name}`;
  await page.screenshot({ path, ...options });
  if (screenshots) {
    mkdirSync(screenshots, { recursive: true });
    copyFileSync(path, `${screenshots}/${name}`);
  }
}

/**
 * How well the text in a screenshot stands out from the footage behind it: the WCAG contrast between the
 * footage and the pixels of the text that differ from it most, taken as the 3 % most different (an outline is
 * a small share of a line's box; a stray anti-aliased pixel is not an outline).
 */
async function textContrast(page, png, footage) {
  return page.evaluate(async ({ data, footage }) => {
    const image = new Image();
    image.src = `data:image/png;base64,${data}`;
    await image.decode();
    const context = new OffscreenCanvas(image.width, image.height).getContext("2d");
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, image.width, image.height).data;
    const linear = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    const luminances = [];
    for (let i = 0; i < pixels.length; i += 4) {
      luminances.push(0.2126 * linear(pixels[i]) + 0.7152 * linear(pixels[i + 1]) + 0.0722 * linear(pixels[i + 2]));
    }
    luminances.sort((a, b) => a - b);
    const background = footage === "white" ? 1 : 0;
    const at = Math.floor(luminances.length * 0.03);
    const text = footage === "white" ? luminances[at] : luminances[luminances.length - 1 - at];
    const ratio = (Math.max(text, background) + 0.05) / (Math.min(text, background) + 0.05);
    return Math.round(ratio * 10) / 10;
  }, { data: png.toString("base64"), footage });
}

/** From now on, what the page gives a screen reader to announce (``region``), with the talk's state then. */
function recordAnnouncements(page, region, state) {
  return page.evaluate(([regionSelector, stateSelector]) => {
    window.announcements = [];
    const live = document.querySelector(regionSelector);
    new MutationObserver(() => {
      const text = live.textContent.trim();
      if (text) window.announcements.push({ text, state: document.querySelector(stateSelector).textContent.trim() });
    }).observe(live, { childList: true, subtree: true, characterData: true });
  }, [region, state]);
}

/** A caption with words in it is shown (a correction of a sentence leaves the finals after its first empty). */
const someCaption = () => [...document.querySelectorAll(".final")].some((final) => final.textContent.trim());

const browser = await launchWithMicrophone(wav);
try {
  const desk = await withAxe(await browser.newContext({ viewport: { width: 1280, height: 800 } }));
  const presenter = await desk.newPage();
  const consoleErrors = [];
  const noteErrors = (page, name) => page.on("console", (m) => m.type() === "error" && consoleErrors.push(`${name}: ${m.text()}`));
  noteErrors(presenter, "presenter");
  await presenter.goto(`${server}/`);
  await presenter.waitForSelector("form");
  result.axe.home = await audit(presenter);
  await presenter.fill("#title", "Opening keynote");
  await presenter.click("form button[type=submit]");
  await presenter.waitForURL(/\/present\//);
  await presenter.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  const viewerUrl = await presenter.inputValue("#viewer-link");
  const presenterLink = await presenter.inputValue("#presenter-link");
  result.presenterLinkInAddressBar = presenter.url().includes("key=");
  result.presenterLink = presenterLink.replace(/key=.*/, "key=…");
  const room = new URL(viewerUrl).pathname.split("/").pop();
  result.room = room;

  const phone = await withAxe(await browser.newContext(PHONE));
  const viewer = await phone.newPage();
  noteErrors(viewer, "viewer");
  await viewer.goto(viewerUrl);
  await viewer.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  await recordAnnouncements(viewer, ".live-region", ".talk-state");
  const state = () => viewer.textContent(".talk-state").then((text) => text.trim());
  const seeState = async (pattern, what) => {
    const seen = await waitUntil(async () => {
      const now = await state();
      return pattern.test(now) ? now : null;
    }, 30000, what);
    result.states.push(seen);
  };
  const viewerText = () => viewer.evaluate(() => [...document.querySelectorAll(".final")].map((p) => p.textContent).join(" "));

  result.newRoomConsoleErrors = [...consoleErrors]; // a new room's pages, before the talk starts
  await presenter.click("button.start");
  await seeState(/^Live$/, "Live on the phone");
  await waitUntil(async () => normalise(await viewerText()).length >= 6, 30000, "the viewer's first words");
  result.notice = (await viewer.textContent(".caption-notice")).trim();

  result.axe.presenter = await audit(presenter);
  // A laptop screen: controls, captions and panels side by side, nothing below the fold, buttons on one line.
  result.layout = await presenter.evaluate(() => {
    const box = (selector) => document.querySelector(selector).getBoundingClientRect();
    const wraps = (selector) => {
      const range = document.createRange();
      range.selectNodeContents(document.querySelector(selector));
      const [first, ...rest] = range.getClientRects();
      return rest.some((rect) => rect.top >= first.bottom);
    };
    return {
      sideBySide: box(".preview").left >= box(".controls").right && box(".share").left >= box(".preview").right,
      panelsInView: box("#new-terms").bottom <= innerHeight && box("#viewer-link").bottom <= innerHeight,
      buttonsWrap: wraps("button.start") || wraps("button.stop"),
    };
  });
  // Every panel open: "A link got out?" and a correction, which takes the clicked word's whole sentence.
  await presenter.click("details.replace summary");
  const finalsBefore = await presenter.evaluate(() => [...document.querySelectorAll(".preview button.final")].map((b) => b.textContent.trim()));
  await presenter.click(".preview button.final");
  await presenter.waitForSelector("textarea.edit");
  result.axe.presenterPanels = await audit(presenter);
  const sentenceEnd = finalsBefore.findIndex((text) => /[.!?…]["')\]]*$/.test(text));
  result.correction = {
    expected: finalsBefore.slice(0, sentenceEnd < 0 ? finalsBefore.length : sentenceEnd + 1).join(" "),
    editor: await presenter.inputValue("textarea.edit"),
  };
  // A presenter's kind of fix (a comma after its second word): "And so, my fellow Americans…".
  result.correction.text = result.correction.editor.replace(/^(\S+ \S+?)[,.]? /, "$1, ");
  await presenter.fill("textarea.edit", result.correction.text);
  await presenter.press("textarea.edit", "Enter");
  result.correction.phone = await waitUntil(async () => {
    const text = await viewerText();
    return text.startsWith(result.correction.text) ? text.slice(0, 60) : null;
  }, 10000, "the corrected sentence on the phone");
  await presenter.click("details.replace summary");
  result.axe.viewer = await audit(viewer);
  await shot(presenter, "presenter-console.png");
  await shot(viewer, "viewer-phone.png");
  await viewer.click("button.icon"); // the display settings ("Aa"), audited open too
  await viewer.waitForSelector("#settings");
  result.axe.viewerSettings = await audit(viewer);
  await viewer.click("button.icon");

  const web = await withAxe(await browser.newContext({ viewport: { width: 960, height: 260 } }));
  const embed = await web.newPage();
  await embed.goto(`${server}/embed/${room}?lines=2&theme=dark&size=30`);
  await embed.waitForFunction(someCaption, null, { timeout: 10000 });
  result.axe.embed = await audit(embed);
  await recordAnnouncements(embed, ".spoken", ".state");
  await shot(embed, "embed-widget.png");
  const overlay = await web.newPage();
  await overlay.goto(`${server}/embed/${room}?lines=2&theme=transparent&size=34&position=bottom`);
  await overlay.waitForFunction(someCaption, null, { timeout: 10000 });
  await shot(overlay, "overlay-transparent.png", { omitBackground: true });

  await presenter.keyboard.press("Alt+KeyP"); // the Pause shortcut
  await seeState(/^Paused/, "Paused on the phone");
  await presenter.click("button.start");
  await seeState(/^Live$/, "Live again on the phone");

  // The presenter's network goes mid-talk (no close reaches the server): the audience is told within seconds.
  const cutAt = Date.now();
  await desk.setOffline(true);
  await seeState(/^The presenter is reconnecting/, "the presenter's cut connection on the phone");
  result.cutNoticedAfterS = (Date.now() - cutAt) / 1000; // for reading (Chromium closes its sockets offline)
  await desk.setOffline(false);
  await seeState(/^Live$/, "Live again once the presenter's network is back");
  // The presenter's tab goes mid-talk, without Pause or Stop: the audience is told, not left with silence.
  await presenter.close();
  await seeState(/^The presenter is reconnecting/, "the presenter's absence on the phone");
  result.embedState = await waitUntil(async () => {
    const text = (await embed.textContent(".state")) ?? "";
    return text.startsWith("The presenter is reconnecting") ? text.trim() : null;
  }, 10000, "the presenter's absence in the embed widget");

  // Another device: a fresh browser opens the console from the presenter link alone, and the talk goes on there.
  const laptop = await withAxe(await browser.newContext({ viewport: { width: 1280, height: 800 } }));
  const again = await laptop.newPage();
  await again.goto(presenterLink);
  await again.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  await seeState(/^Live$/, "Live on the phone once the presenter is back");
  result.reopened = {
    title: (await again.textContent("h1")).trim(),
    keyLeftInAddressBar: again.url().includes("key="),
    session: (await again.textContent(".session")).trim(),
  };
  // A third device opens the console too: the laptop's says so and offers to take the room back, which it does.
  const tablet = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const third = await tablet.newPage();
  await third.goto(presenterLink);
  await third.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  await again.waitForSelector(".replaced", { timeout: 10000 });
  result.replaced = (await again.textContent(".replaced p")).trim();
  result.axe.replaced = await audit(again);
  // axe only asks for a review where text and background are the same colour: the badge is measured here.
  result.offlineBadgeContrast = await again.evaluate(() => {
    const badge = getComputedStyle(document.querySelector("app-connection-badge.offline"));
    const luminance = (css) => {
      const [r, g, b] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map((v) => Number(v) / 255);
      const linear = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    const [light, dark] = [luminance(badge.color), luminance(badge.backgroundColor)].sort((a, b) => b - a);
    return Math.round(((light + 0.05) / (dark + 0.05)) * 10) / 10;
  });
  await again.click("button.present-here");
  await again.waitForSelector("app-connection-badge.connected", { timeout: 10000 });
  await third.waitForSelector(".replaced", { timeout: 10000 });
  await tablet.close();
  await again.click("button.stop");
  await seeState(/^The talk has ended/, "Ended on the phone");
  result.announcements = await viewer.evaluate(() => window.announcements);
  result.embedAnnouncements = await embed.evaluate(() => window.announcements);
  // Home in the browser that created the room lists it (My rooms), audited too.
  const home = await desk.newPage();
  await home.goto(`${server}/`);
  await home.waitForSelector(".my-rooms li");
  result.myRooms = await home.evaluate(() => [...document.querySelectorAll(".my-rooms .room-title")].map((t) => t.textContent));
  result.axe.homeWithRooms = await audit(home);
  // The OBS overlay over the brightest and the darkest footage: its captions and its status line both readable.
  await overlay.waitForSelector(".state:not([hidden])");
  const measuring = await web.newPage();
  result.overlayContrast = {};
  for (const footage of ["white", "black"]) {
    await overlay.evaluate((color) => (document.documentElement.style.background = color), footage);
    for (const part of [".flow", ".state"]) {
      const png = await overlay.locator(part).screenshot();
      result.overlayContrast[`${part} over ${footage}`] = await textContrast(measuring, png, footage);
    }
  }
  result.downloads = await viewer.evaluate(() => [...document.querySelectorAll(".notice.ended a")].map((a) => a.getAttribute("href")));
  await shot(viewer, "viewer-phone-ended.png");

  // Text size on the phone: a reader at the live end stays with the newest line; one who scrolled back keeps
  // the caption they were reading at the top.
  const atLiveEnd = () => viewer.evaluate(() => {
    const scroller = document.querySelector("main.captions");
    return scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 2;
  });
  await viewer.setViewportSize({ width: 390, height: 480 }); // a phone on its side: the talk is taller than it
  await viewer.click("button.icon");
  for (let step = 0; step < 9; step++) await viewer.click("button.bigger"); // up to the largest size
  result.textSize = { overflows: await viewer.evaluate(() => {
    const scroller = document.querySelector("main.captions");
    return scroller.scrollHeight > scroller.clientHeight * 1.5;
  }) };
  result.textSize.atLiveEnd = await waitUntil(async () => ((await atLiveEnd()) ? true : null), 5000, "the live end in view")
    .catch(() => false);
  // The caption at the top of the reader's view, and where it is: the one a reader who scrolled back is reading.
  const reading = (id) => viewer.evaluate((id) => {
    const top = document.querySelector("main.captions").getBoundingClientRect().top;
    const line = id
      ? document.querySelector(`[data-id="${id}"]`)
      : [...document.querySelectorAll(".final")].find((f) => f.textContent.trim() && f.getBoundingClientRect().bottom > top);
    return { id: line.dataset.id, offset: line.getBoundingClientRect().top - top };
  }, id);
  // Back to a quarter of the talk: with smaller text the talk gets shorter (fewer words wrap), and from the middle
  // of a talk barely 1.5 screens tall too little would be left below the caption to scroll it back to the top:
  // there its place cannot be kept by any app, and whether the talk was that short depended on how it was heard.
  await viewer.evaluate(() => {
    const scroller = document.querySelector("main.captions");
    scroller.scrollTop = (scroller.scrollHeight - scroller.clientHeight) / 4;
  });
  await viewer.waitForSelector("button.jump"); // scrolled back: no longer following, offered the live end
  const before = await reading(null);
  await viewer.click("button.smaller");
  await viewer.click("button.smaller");
  result.textSize.keptPlace = await waitUntil(async () => {
    const now = await reading(before.id);
    return Math.abs(now.offset - before.offset) <= 2 ? true : null;
  }, 5000, "the caption being read where it was").catch(() => false);
} finally {
  await browser.close();
}
writeFileSync(`${artifacts}/talk-flow.json`, JSON.stringify(result, null, 1)); // axe's findings, for reading
console.log(JSON.stringify(result));
