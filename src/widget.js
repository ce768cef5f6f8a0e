// <hbg-booking>: the embeddable booking widget.
// Loads the WebAssembly module and the stylesheet lazily, when the first
// element connects, and renders each element inside its own shadow root
// (one shared, adopted stylesheet). Attributes, and the matching properties,
// are read into the widget's settings; a change after start remounts the
// widget with the new settings, coalesced in a microtask.
// While the module loads, each element shows its first step (the product
// choice or the course list) as the gateway renders it (`/api/first-step`,
// every text escaped there), fetched in parallel with the module: the
// "early step". A choice made on it is kept, and made again on the
// module's own step once that is ready, which then replaces the early one
// (focus kept). `?hbg-early=off` on the page's address turns the early step
// and the preload hints off, to compare load paths.
const base = import.meta.url;
const asset = (name) => new URL(name, base).href;
const GLUE = asset("__HBG_GLUE__");
const WASM = asset("__HBG_WASM__");
const CSS = asset("__HBG_CSS__");
const LANG = "en-GB";
const TAG = "<hbg-booking>";
const EARLY = new URLSearchParams(location.search).get("hbg-early") !== "off";

// Property name -> attribute name. `lang` is HTMLElement's own.
const PROPERTIES = {
  api: "api",
  product: "product",
  course: "course",
  location: "location",
  returnUrl: "return-url",
  firstName: "first-name",
  lastName: "last-name",
  email: "email",
  phone: "phone",
  jobRole: "job-role",
};
const PREFILL = ["first-name", "last-name", "email", "phone", "job-role"];

// Readers of the checked attributes: the setting, or undefined if invalid.
const http = (value) => {
  try {
    const url = new URL(value, document.baseURI);
    if (/^https?:$/.test(url.protocol)) return url.href;
  } catch {}
};
const id = (value) => (/^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : undefined);
// `product`: "practical", "virtual-bls", or both (space-separated) to let
// the candidate choose.
const products = (value) => {
  const names = value.trim().split(/\s+/);
  if (names.every((name) => name === "practical" || name === "virtual-bls")) {
    return [...new Set(names)];
  }
};
const READERS = {
  api: [http, `not an http(s) URL; using ${asset("api")}`],
  product: [products, "not practical, virtual-bls or both; booking practical training"],
  course: [id, "not a positive whole number; showing every course"],
  location: [id, "not a positive whole number; showing every location"],
  lang: [(value) => (/^en(-gb)?$/i.test(value) ? LANG : undefined), `the widget speaks ${LANG} only`],
  "return-url": [http, "not an http(s) URL; returning to this page"],
};

let loading;
let styling;
let glue;
let sheet;
let count = 0;

// Preload hints in the host page's head, so the browser fetches the module,
// its glue and the stylesheet at its highest priority. The module is then
// compiled as it streams in (`instantiateStreaming`).
function hint() {
  for (const [rel, href, as] of [
    ["modulepreload", GLUE],
    ["preload", WASM, "fetch"],
    ["preload", CSS, "fetch"],
  ]) {
    if (document.head.querySelector(`link[href="${href}"]`)) continue;
    const link = document.createElement("link");
    link.rel = rel;
    link.href = href;
    if (as) link.as = as;
    link.crossOrigin = "anonymous";
    document.head.append(link);
  }
}

// The stylesheet, fetched once for every element. A missing stylesheet
// leaves the widget unstyled rather than absent.
function style() {
  styling ??= fetch(CSS, { mode: "cors", credentials: "same-origin" })
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((text) => (sheet = new CSSStyleSheet()).replace(text))
    .catch((error) => console.warn(`${TAG}: the stylesheet did not load (${error})`));
  return styling;
}

// The module and the stylesheet, fetched once (and in parallel) for every
// element.
function load() {
  if (loading) return loading;
  const wasm = fetch(WASM, { mode: "cors", credentials: "same-origin" });
  loading = Promise.all([
    Promise.all([import(GLUE), wasm]).then(async ([module]) => {
      await module.default({ module_or_path: wasm });
      glue = module;
    }),
    style(),
  ]).catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

// The element's first step from the gateway ({html, courses}), or
// undefined when the module must show it (a preselected course, a booking
// link, no courses) or the gateway cannot say.
async function firstStep(element) {
  if (!EARLY || new URLSearchParams(location.search).has("hbg-booking")) return;
  const query = new URLSearchParams({ product: (read(element, "product") ?? ["practical"]).join(" ") });
  const course = read(element, "course");
  if (course) query.set("course", course);
  try {
    const response = await fetch(`${read(element, "api") ?? asset("api")}/first-step?${query}`);
    if (response.status === 200) return await response.json();
  } catch {}
}

// Whether the module's view has settled on a step: a heading, and nothing
// still loading.
const settled = (root) => root.querySelector(".hbg-heading") && !root.querySelector('[aria-busy="true"]');
const titles = (root) => [...root.querySelectorAll(".hbg-choice")].map((button) => button.textContent);

// An attribute's setting: null when absent, empty or invalid.
function read(element, name) {
  const value = element.getAttribute(name);
  return value ? (READERS[name]?.[0] ?? String)(value) ?? null : null;
}

function settings(element) {
  const prefill = {};
  for (const name of PREFILL) {
    const value = read(element, name);
    if (value) prefill[name.replace("-", "_")] = value;
  }
  return JSON.stringify({
    api: read(element, "api") ?? asset("api"),
    products: read(element, "product") ?? ["practical"],
    course: read(element, "course"),
    location: read(element, "location"),
    return_url: read(element, "return-url"),
    booking_link: new URLSearchParams(location.search).get("hbg-booking"),
    prefill,
    instance: element.id || String(element.instance),
  });
}

class HbgBooking extends HTMLElement {
  static observedAttributes = [...Object.values(PROPERTIES), "lang"];

  connectedCallback() {
    if (this.root) return;
    // Properties a framework set before this element was defined.
    for (const name in PROPERTIES) {
      if (Object.hasOwn(this, name)) {
        const value = this[name];
        delete this[name];
        this[name] = value;
      }
    }
    this.instance ??= count++;
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    const root = (this.root = document.createElement("div"));
    root.className = "hbg-root";
    root.part = "root";
    root.lang = LANG;
    // English runs left to right, whatever the host page's direction.
    root.dir = "ltr";
    shadow.replaceChildren(root);
    // The module waits for the early step's answer (started at the same
    // time, and much smaller), so as to take its courses over.
    const early = Promise.all([firstStep(this), style()]).then(([answer]) => this.showEarly(root, answer));
    Promise.all([load(), early]).then(
      () => {
        if (sheet) shadow.adoptedStyleSheets = [sheet];
        this.mount();
      },
      (error) => {
        console.error(`${TAG}: the widget did not load`, error);
        if (this.root !== root) return;
        const message = document.createElement("p");
        message.textContent = "The booking form could not load. Reload the page to try again.";
        root.replaceChildren(message);
      },
    );
  }

  // Shows the early step in `root` while the module loads, keeping the
  // last choice made on it.
  showEarly(root, early) {
    if (typeof early?.html !== "string" || this.root !== root || this.handle) return;
    if (sheet) this.shadowRoot.adoptedStyleSheets = [sheet];
    root.innerHTML = early.html;
    this.early = { root, chosen: -1, courses: early.courses?.length ? early.courses : null };
    root.addEventListener("click", (event) => {
      const button = event.target.closest?.(".hbg-choice");
      if (!button || this.early?.root !== root) return;
      const buttons = [...root.querySelectorAll(".hbg-choice")];
      for (const other of buttons) other.removeAttribute("aria-pressed");
      button.setAttribute("aria-pressed", "true");
      this.early.chosen = buttons.indexOf(button);
    });
  }

  // Mounts the widget with the current settings, unless they are the ones
  // it already has.
  mount() {
    if (!glue || !this.root || !this.isConnected) return;
    const config = settings(this);
    if (this.handle && config === this.config) return;
    this.handle?.unmount();
    this.config = config;
    if (!this.early) {
      this.handle = glue.mount(this.root, config);
      return;
    }
    // The module renders out of sight beside the early step, and replaces
    // it once its own step has settled. It takes the courses the early step
    // listed rather than reading them again.
    const { root: early, chosen, courses } = this.early;
    if (this.root !== early) this.root.remove();
    const next = early.cloneNode(false);
    next.hidden = true;
    early.after(next);
    this.root = next;
    this.handle = glue.mount(next, JSON.stringify({ ...JSON.parse(config), courses }));
    const takeOver = () => {
      if (this.root !== next) return observer.disconnect();
      if (!settled(next)) return;
      observer.disconnect();
      const shadow = this.shadowRoot;
      const before = titles(early);
      const focused = [...early.querySelectorAll(".hbg-choice")].indexOf(shadow.activeElement);
      const choice = this.early?.chosen ?? chosen;
      this.early = undefined;
      early.remove();
      next.hidden = false;
      const after = titles(next);
      const same = (index) => index >= 0 && before[index] === after[index];
      const buttons = next.querySelectorAll(".hbg-choice");
      if (same(choice)) buttons[choice].click();
      else if (same(focused)) buttons[focused].focus();
    };
    const observer = new MutationObserver(takeOver);
    observer.observe(next, { childList: true, subtree: true, attributes: true, characterData: true });
    takeOver();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    const reader = READERS[name];
    if (value && reader && reader[0](value) === undefined) {
      console.warn(`${TAG}: ignoring ${name}="${value}" (${reader[1]})`);
    }
    if (!this.handle || this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.mount();
    });
  }

  // Unmounts once the widget's own code has returned (a host page may remove
  // the element from an event listener), and not at all if it was moved.
  disconnectedCallback() {
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.handle?.unmount();
      this.handle = this.root = this.config = this.early = undefined;
    });
  }
}

for (const [property, attribute] of Object.entries(PROPERTIES)) {
  Object.defineProperty(HbgBooking.prototype, property, {
    get() {
      return this.getAttribute(attribute);
    },
    set(value) {
      if (value == null) this.removeAttribute(attribute);
      else this.setAttribute(attribute, value);
    },
  });
}

if (!customElements.get("hbg-booking")) {
  if (EARLY && document.querySelector("hbg-booking")) hint();
  customElements.define("hbg-booking", HbgBooking);
}
