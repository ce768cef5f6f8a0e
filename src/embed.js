// The iframe mode's inside: `embed.html?parent=ORIGIN&product=..&course=..&location=..`,
// served by the gateway, shows one <hbg-booking> and talks to `frame.js` in
// the host page, only ever with the origin named by `parent`:
//   to the host:   {type: "hbg:connect"} once; {type: "hbg:resize", height}
//                  whenever the page's height changes; {type, detail} for
//                  every hbg:* event of the widget; {type: "hbg:storage",
//                  key, value | null} when the widget writes sessionStorage;
//   from the host: {type: "hbg:attributes", attributes: {name: value | null},
//                  storage?: {key: value}}: first the candidate fields, the
//                  return address (both kept out of the URL) and what the
//                  widget stored earlier in this tab, which the widget waits
//                  for; then any attribute change.
// Browsers that block third-party storage deny an iframe its sessionStorage,
// which the widget needs to find a booking again after the payment page: the
// widget's sessionStorage is kept in the host page's instead.
// The widget's host events (booking-core's HostEvent::NAMES; a test checks).
const EVENTS = [
  "ready",
  "course-chosen",
  "location-chosen",
  "event-chosen",
  "hold-created",
  "hold-expiring",
  "hold-expired",
  "submit-started",
  "payment-redirect",
  "booking-created",
  "booking-confirmed",
  "error",
];
const FROM_URL = ["product", "course", "location", "lang"];
const FROM_HOST = [...FROM_URL, "first-name", "last-name", "email", "phone", "job-role", "return-url"];

// `value` if it is exactly an http(s) origin, such as https://www.agency.example.
function origin(value) {
  try {
    const url = new URL(value);
    if (/^https?:$/.test(url.protocol) && url.origin === value) return value;
  } catch {}
}

const params = new URLSearchParams(location.search);
const widget = document.createElement("hbg-booking");
widget.id = `hbg-frame-${params.get("instance") ?? ""}`;
for (const name of FROM_URL) {
  const value = params.get(name);
  if (value !== null) widget.setAttribute(name, value);
}
const show = () => widget.isConnected || document.body.append(widget);

const parent = params.has("parent") ? origin(params.get("parent")) : undefined;
if (params.has("parent") && !parent) {
  console.warn(`embed.html: ignoring parent="${params.get("parent")}" (not an origin such as https://www.agency.example)`);
}
if (parent && window.parent !== window) {
  const post = (message) => window.parent.postMessage(message, parent);

  const stored = new Map();
  const storage = {
    getItem: (key) => stored.get(String(key)) ?? null,
    setItem(key, value) {
      stored.set(String(key), String(value));
      post({ type: "hbg:storage", key: String(key), value: String(value) });
    },
    removeItem(key) {
      stored.delete(String(key));
      post({ type: "hbg:storage", key: String(key), value: null });
    },
  };
  Object.defineProperty(window, "sessionStorage", { value: storage, configurable: true });

  addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== parent) return;
    const { type, attributes, storage } = event.data ?? {};
    if (type !== "hbg:attributes" || typeof attributes !== "object" || !attributes) return;
    if (!widget.isConnected && typeof storage === "object" && storage) {
      for (const [key, value] of Object.entries(storage)) {
        if (typeof value === "string") stored.set(key, value);
      }
    }
    for (const name of FROM_HOST) {
      if (!Object.hasOwn(attributes, name)) continue;
      const value = attributes[name];
      if (value == null) widget.removeAttribute(name);
      else widget.setAttribute(name, String(value));
    }
    show();
  });
  for (const name of EVENTS) {
    const type = `hbg:${name}`;
    widget.addEventListener(type, (event) => post({ type, detail: event.detail }));
  }
  let height = 0;
  new ResizeObserver(() => {
    const now = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (now !== height) post({ type: "hbg:resize", height: (height = now) });
  }).observe(document.documentElement);
  // The widget starts once the host page's settings are in (a change after
  // the start would restart it), or after a second without them.
  post({ type: "hbg:connect" });
  setTimeout(show, 1000);
} else {
  show();
}
