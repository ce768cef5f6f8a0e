// <hbg-booking>: the embeddable booking widget.
// Loads the WebAssembly module lazily, when the first element connects, and
// renders each element inside its own shadow root.
const base = import.meta.url;
const asset = (name) => new URL(name, base).href;
const GLUE = asset("__HBG_GLUE__");
const WASM = asset("__HBG_WASM__");
const CSS = asset("__HBG_CSS__");

let module;
function load() {
  module ??= import(GLUE).then(async (glue) => {
    await glue.default({ module_or_path: WASM });
    return glue;
  });
  return module;
}

class HbgBooking extends HTMLElement {
  connectedCallback() {
    if (this.root) return;
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = CSS;
    this.root = document.createElement("div");
    this.root.setAttribute("part", "root");
    shadow.replaceChildren(style, this.root);
    load().then((glue) => {
      if (this.isConnected && this.root && !this.handle) this.handle = glue.mount(this.root);
    });
  }

  disconnectedCallback() {
    this.handle?.unmount();
    this.handle = undefined;
    this.root = undefined;
  }
}

if (!customElements.get("hbg-booking")) customElements.define("hbg-booking", HbgBooking);
