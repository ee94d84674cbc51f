// Live captions for any page: <script src="https://captions.example/embed.js" data-room="ROOM"
//   data-lines="2" data-theme="dark"></script> puts the captions widget where the tag is and keeps its height.
// A private room's tag adds data-token="VIEWER_TOKEN"; it reaches the widget in the fragment, never a server.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.dataset.room) return;
  const server = new URL(script.src).origin;
  const params = new URLSearchParams();
  for (const name of ["lines", "theme", "font", "size", "color", "background", "align", "position"]) {
    if (script.dataset[name]) params.set(name, script.dataset[name]);
  }
  params.set("parent", location.origin);
  const iframe = document.createElement("iframe");
  const fragment = script.dataset.token ? `#token=${encodeURIComponent(script.dataset.token)}` : "";
  iframe.src = `${server}/embed/${encodeURIComponent(script.dataset.room)}?${params}${fragment}`;
  iframe.title = script.dataset.title || "Live captions";
  iframe.loading = "eager";
  const lines = Number(script.dataset.lines) || 2;
  const size = Number(script.dataset.size) || 28;
  iframe.style.cssText = `display:block;width:100%;border:0;height:${Math.ceil(lines * size * 1.35 + size * 0.5)}px`;
  if (script.parentNode === document.head) {
    // A tag in <head> cannot show anything there: the widget goes at the top of the page instead.
    document.addEventListener("DOMContentLoaded", () => document.body.prepend(iframe));
  } else {
    script.after(iframe);
  }
  window.addEventListener("message", (event) => {
    if (event.origin !== server || event.source !== iframe.contentWindow) return;
    const message = event.data;
    if (message && message.type === "captions:height" && Number.isFinite(message.height)) {
      iframe.style.height = `${Math.min(Math.max(message.height, 0), 4000)}px`;
    }
  });
})();
