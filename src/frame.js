// <hbg-booking-frame>: the iframe mode, for host pages whose
// Content-Security-Policy cannot allow 'wasm-unsafe-eval'. It shows the
// gateway's `embed.html` in an iframe sized to its content, and re-dispatches
// the widget's hbg:* events on itself, as <hbg-booking> does. Messages are
// accepted only from that iframe's window and the gateway's origin, and sent
// only to that origin. Non-personal settings go in the iframe's URL; the
// candidate fields and the page's address go by message, and so does what
// the widget keeps in sessionStorage, which this page keeps for it (browsers
// that block third-party storage deny it to the iframe). See embed.js.
// The widget's host events (booking-core's HostEvent::NAMES; a test checks).
const EVENTS = new Set(
  [
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
  ].map((name) => `hbg:${name}`),
);
// Property name -> attribute name. `lang` is HTMLElement's own.
const PROPERTIES = {
  gateway: "gateway",
  product: "product",
  course: "course",
  location: "location",
  firstName: "first-name",
  lastName: "last-name",
  email: "email",
  phone: "phone",
  jobRole: "job-role",
};
const IN_URL = ["product", "course", "location", "lang"];
const BY_MESSAGE = ["first-name", "last-name", "email", "phone", "job-role"];
let count = 0;

// This tab's sessionStorage, if the page may use it.
function tabStorage() {
  try {
    return window.sessionStorage;
  } catch {}
}

class HbgBookingFrame extends HTMLElement {
  static observedAttributes = [...Object.values(PROPERTIES), "lang"];

  connectedCallback() {
    if (this.frame) return;
    for (const name in PROPERTIES) {
      if (Object.hasOwn(this, name)) {
        const value = this[name];
        delete this[name];
        this[name] = value;
      }
    }
    const page = this.page();
    this.origin = page.origin;
    this.instance ??= this.id || String(count++);
    page.searchParams.set("parent", location.origin);
    page.searchParams.set("instance", this.instance);
    for (const name of IN_URL) {
      const value = this.getAttribute(name);
      if (value !== null) page.searchParams.set(name, value);
    }
    // A booking's own page, opened from its link on this page.
    const link = new URLSearchParams(location.search).get("hbg-booking");
    if (link) page.searchParams.set("hbg-booking", link);
    const frame = (this.frame = document.createElement("iframe"));
    // No sandbox: the widget sends the top window to the payment page.
    frame.title = "Book practical training";
    frame.part = "frame";
    Object.assign(frame.style, { display: "block", width: "100%", height: "32rem", border: "0" });
    this.listener = (event) => this.receive(event);
    addEventListener("message", this.listener);
    frame.src = page.href;
    (this.shadowRoot ?? this.attachShadow({ mode: "open" })).replaceChildren(frame);
  }

  disconnectedCallback() {
    removeEventListener("message", this.listener);
    this.frame?.remove();
    this.frame = undefined;
  }

  // The gateway's embed.html: next to this script unless `gateway` says where.
  page() {
    const gateway = this.getAttribute("gateway");
    if (gateway) {
      try {
        const base = new URL(gateway.replace(/\/?$/, "/"), document.baseURI);
        if (/^https?:$/.test(base.protocol)) return new URL("embed.html", base);
      } catch {}
      console.warn(`<hbg-booking-frame>: ignoring gateway="${gateway}" (not an http(s) URL; using ${new URL(".", import.meta.url)})`);
    }
    return new URL("embed.html", import.meta.url);
  }

  receive(event) {
    if (!this.frame || event.source !== this.frame.contentWindow || event.origin !== this.origin) return;
    const { type, height, detail, key, value } = event.data ?? {};
    const storage = tabStorage();
    const prefix = `hbg-frame ${this.origin} `;
    if (type === "hbg:connect") {
      const attributes = { "return-url": location.href };
      for (const name of BY_MESSAGE) attributes[name] = this.getAttribute(name);
      const stored = {};
      for (let i = 0; i < (storage?.length ?? 0); i++) {
        const name = storage.key(i);
        if (name?.startsWith(prefix)) stored[name.slice(prefix.length)] = storage.getItem(name);
      }
      this.send(attributes, stored);
    } else if (type === "hbg:storage" && typeof key === "string" && key.startsWith("hbg:")) {
      try {
        if (value == null) storage?.removeItem(prefix + key);
        else storage?.setItem(prefix + key, String(value));
      } catch {}
    } else if (type === "hbg:resize" && Number.isFinite(height) && height >= 0) {
      this.frame.style.height = `${Math.ceil(height)}px`;
    } else if (EVENTS.has(type)) {
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    }
  }

  send(attributes, storage) {
    this.frame?.contentWindow?.postMessage({ type: "hbg:attributes", attributes, storage }, this.origin);
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.frame) return;
    if (name === "gateway") {
      this.disconnectedCallback();
      this.connectedCallback();
    } else {
      this.send({ [name]: value });
    }
  }
}

for (const [property, attribute] of Object.entries(PROPERTIES)) {
  Object.defineProperty(HbgBookingFrame.prototype, property, {
    get() {
      return this.getAttribute(attribute);
    },
    set(value) {
      if (value == null) this.removeAttribute(attribute);
      else this.setAttribute(attribute, value);
    },
  });
}

if (!customElements.get("hbg-booking-frame")) customElements.define("hbg-booking-frame", HbgBookingFrame);
