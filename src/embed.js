// The iframe mode's inside: `embed.html?parent=ORIGIN&course=..&location=..`,
// served by the gateway, shows one <hbg-booking> and talks to `frame.js` in
// the host page, only ever with the origin named by `parent`:
//   to the host:   {type: "hbg:connect"} once, then {type: "hbg:resize", height}
//                  whenever the page's height changes, and {type, detail} for
//                  every hbg:* event of the widget;
//   from the host: {type: "hbg:attributes", attributes: {name: value | null}},
//                  the candidate fields and return address (kept out of the
//                  URL) and any later attribute change.
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
const FROM_URL = ["course", "location", "lang"];
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
widget.id = "hbg-frame";
for (const name of FROM_URL) {
  const value = params.get(name);
  if (value !== null) widget.setAttribute(name, value);
}
document.body.append(widget);

const parent = params.has("parent") ? origin(params.get("parent")) : undefined;
if (params.has("parent") && !parent) {
  console.warn(`embed.html: ignoring parent="${params.get("parent")}" (not an origin such as https://www.agency.example)`);
}
if (parent && window.parent !== window) {
  const post = (message) => window.parent.postMessage(message, parent);
  addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== parent) return;
    const { type, attributes } = event.data ?? {};
    if (type !== "hbg:attributes" || typeof attributes !== "object" || !attributes) return;
    for (const name of FROM_HOST) {
      if (!Object.hasOwn(attributes, name)) continue;
      const value = attributes[name];
      if (value == null) widget.removeAttribute(name);
      else widget.setAttribute(name, String(value));
    }
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
  post({ type: "hbg:connect" });
}
