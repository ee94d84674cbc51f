// The captions widget inside its iframe. No framework: it only receives, so it speaks just enough of the
// Engine.IO 4 / Socket.IO 5 protocol over one WebSocket (open, ping/pong, connect with auth, events).
// Caption text is only ever set with textContent.
(() => {
  "use strict";
  const main = document.getElementById("captions");
  const flow = main.querySelector(".flow");
  const partialEl = flow.querySelector(".partial");
  const stateEl = main.querySelector(".state");
  const spokenEl = main.querySelector(".spoken");
  const room = main.dataset.room;
  const parentOrigin = main.dataset.parent;
  const liveView = main.dataset.lines !== "all";
  const KEPT_IN_LIVE_VIEW = 40;
  const LATE_S = 2; // captions this late say so
  const finals = new Map();
  flow.querySelectorAll(".final").forEach((el) => finals.set(el.dataset.id, el));
  let lastId = main.dataset.lastId || null;
  let partialId = null;
  let attempt = 0;
  const GONE = "This room does not exist.";
  const PRIVATE = "This room is private: open it with its full link.";
  // A private room's viewer token travels in the fragment (#token=...), which no server ever sees.
  const token = new URLSearchParams(location.hash.slice(1)).get("token");

  function show(message) {
    stateEl.textContent = message;
    stateEl.hidden = !message;
    reportHeight();
  }

  function render(caption) {
    if (caption.kind === "partial") {
      partialId = caption.id;
      partialEl.textContent = caption.text ? caption.text + " " : "";
    } else {
      let el = finals.get(caption.id);
      if (!el) {
        if (caption.kind !== "final") return;
        el = document.createElement("span");
        el.className = "final";
        el.dataset.id = caption.id;
        flow.insertBefore(el, partialEl);
        finals.set(caption.id, el);
        lastId = caption.id;
        trim();
      }
      el.textContent = caption.text + " ";
      if (caption.through) blankAfter(caption.id, caption.through);
      if (partialId === caption.id) {
        partialEl.textContent = "";
        partialId = null;
      }
      announce();
    }
    if (!liveView) window.scrollTo(0, document.body.scrollHeight);
    reportHeight();
  }

  // A screen reader is given whole sentences (the words of an unfinished one once the talk pauses, ends or loses
  // its presenter), never the recogniser's fragments or partials.
  const SENTENCE_END = /[.!?…]["'”’)\]]*$/;
  let spoken = { id: null, text: "" };
  const sessionOf = (id) => id.slice(0, id.lastIndexOf(":"));
  function announce() {
    let done = null;
    let open = [];
    let openId = null;
    // From the sentence spoken last on (unless it scrolled out of the view): the words said before a pause are
    // not followed by the sentence before them again.
    let reached = spoken.id === null || !finals.has(spoken.id);
    const close = () => {
      if (open.length && reached) done = { id: openId, text: open.join(" ") };
      open = [];
    };
    for (const [id, el] of finals) {
      if (id === spoken.id) reached = true;
      const text = el.textContent.trim();
      if (!text) continue;
      if (open.length && sessionOf(openId) !== sessionOf(id)) close();
      if (!open.length) openId = id;
      open.push(text);
      if (SENTENCE_END.test(text)) close();
    }
    if (talk) close();
    if (!done || (done.id === spoken.id && done.text === spoken.text)) return;
    spoken = done;
    spokenEl.textContent = done.text;
  }

  // One correction of a sentence said over several finals: the finals after the first, up to "through",
  // become empty (the first reads the whole sentence).
  function blankAfter(first, through) {
    const at = (id) => [id.slice(0, id.lastIndexOf(":")), Number(id.slice(id.lastIndexOf(":") + 1))];
    const [session, from] = at(first);
    const [same, to] = at(through);
    if (session !== same) return;
    for (let n = from + 1; n <= Math.min(to, from + 1000); n++) {
      const el = finals.get(session + ":" + n);
      if (el) el.textContent = "";
    }
  }

  function trim() {
    if (!liveView) return;
    while (finals.size > KEPT_IN_LIVE_VIEW) {
      const [id, el] = finals.entries().next().value;
      el.remove();
      finals.delete(id);
    }
  }

  const STATES = { paused: "Paused", stopping: "The talk has ended.", ended: "The talk has ended." };
  // Gone without Pause or Stop (a dropped connection, a closed tab): the silence is not the talk's.
  const PRESENTER_AWAY = "The presenter is reconnecting — captions will continue.";
  let talk = ""; // what the talk is doing
  let behind = ""; // how late the captions are, when they are
  function status(state) {
    if (state.session === "live") talk = state.presenter_connected ? "" : PRESENTER_AWAY;
    else if (STATES[state.session]) talk = STATES[state.session];
    else if (!finals.size) talk = "Captions appear here when the talk starts.";
    if (state.session !== "live") behind = "";
    show(behind || talk);
    announce();
    if (!liveView && (state.session === "ended" || state.session === "stopping")) offerTranscript();
  }

  function lag(report) {
    behind = report.seconds >= LATE_S ? `Captions ${Math.round(report.seconds)} s behind` : "";
    show(behind || talk);
  }

  // The full transcript view (the viewer link without the app): the finished talk's transcript is a tap away.
  function offerTranscript() {
    if (token || stateEl.querySelector("a")) return;
    const link = document.createElement("a");
    link.href = `/api/rooms/${encodeURIComponent(room)}/transcript.txt`;
    link.textContent = "Download the transcript";
    stateEl.append(" ", link);
  }

  let reported = 0;
  function reportHeight() {
    if (!parentOrigin || window.parent === window) return;
    const height = Math.ceil(main.getBoundingClientRect().height);
    if (height === reported) return;
    reported = height;
    window.parent.postMessage({ type: "captions:height", room, height }, parentOrigin);
  }

  function connect() {
    const url = new URL("/socket.io/?EIO=4&transport=websocket", location.href);
    // A proxy may send a room's clients to one gateway by it (nothing depends on it).
    url.searchParams.set("room", room);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    let watchdog = 0;
    let silence = 45000;
    const alive = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => ws.close(), silence);
    };
    ws.onmessage = ({ data }) => {
      if (typeof data !== "string") return;
      alive();
      if (data[0] === "0") {
        const open = JSON.parse(data.slice(1));
        silence = open.pingInterval + open.pingTimeout;
        const auth = { room, role: "viewer" };
        if (lastId) auth.last_id = lastId;
        if (token) auth.token = token;
        ws.send("40" + JSON.stringify(auth));
      } else if (data === "2") {
        ws.send("3");
      } else if (data.startsWith("40")) {
        attempt = 0;
        show(behind || talk);
      } else if (data.startsWith("44")) {
        const refusal = JSON.parse(data.slice(2));
        const code = refusal.data && refusal.data.code;
        show(code === "unknown_room" ? GONE : code === "private_room" ? PRIVATE : refusal.message);
      } else if (data.startsWith("42")) {
        const [event, payload] = JSON.parse(data.slice(2));
        if (event === "caption") render(payload);
        else if (event === "status") status(payload);
        else if (event === "lag") lag(payload);
        else if (event === "error" && payload.code === "room_deleted") show(GONE);
      }
    };
    ws.onclose = () => {
      clearTimeout(watchdog);
      if (stateEl.textContent !== GONE && stateEl.textContent !== PRIVATE) {
        show("Reconnecting…");
        setTimeout(connect, Math.min(10000, 500 * 2 ** attempt++));
      }
    };
  }

  if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(main);
  reportHeight();
  connect();
})();
