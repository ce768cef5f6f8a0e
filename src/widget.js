// <hbg-booking>: the embeddable booking widget.
// Loads the WebAssembly module lazily, when the first element connects, and
// renders each element inside its own shadow root.
const base = import.meta.url;
const asset = (name) => new URL(name, base).href;
const GLUE = asset("__HBG_GLUE__");
const WASM = asset("__HBG_WASM__");
const CSS = asset("__HBG_CSS__");

const PREFILL = ["first-name", "last-name", "email", "phone", "job-role"];
let module;
let count = 0;

function load() {
  module ??= import(GLUE).then(async (glue) => {
    await glue.default({ module_or_path: WASM });
    return glue;
  });
  return module;
}

function id(element, name) {
  const value = element.getAttribute(name);
  if (value === null || value === "") return null;
  if (/^[1-9][0-9]{0,15}$/.test(value)) return Number(value);
  console.warn(`<hbg-booking>: ignoring ${name}="${value}" (not a positive whole number)`);
  return null;
}

function settings(element) {
  const prefill = {};
  for (const name of PREFILL) {
    const value = element.getAttribute(name);
    if (value) prefill[name.replace("-", "_")] = value;
  }
  return JSON.stringify({
    api: element.getAttribute("api") || new URL("api", base).href,
    course: id(element, "course"),
    location: id(element, "location"),
    prefill,
    instance: element.id || String(element.instance),
  });
}

class HbgBooking extends HTMLElement {
  connectedCallback() {
    if (this.root) return;
    this.instance ??= count++;
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = CSS;
    this.root = document.createElement("div");
    this.root.setAttribute("part", "root");
    shadow.replaceChildren(style, this.root);
    load().then((glue) => {
      if (this.isConnected && this.root && !this.handle) {
        this.handle = glue.mount(this.root, settings(this));
      }
    });
  }

  disconnectedCallback() {
    this.handle?.unmount();
    this.handle = undefined;
    this.root = undefined;
  }
}

if (!customElements.get("hbg-booking")) customElements.define("hbg-booking", HbgBooking);
