// The first choice on a slow phone, for `cargo xtask bench`: the demo's
// agency page under Lighthouse's mobile profile (150 ms round trip,
// 1.6 Mbps down, 750 kbps up, the CPU 4x slower), each visit in a new
// browser context (a cold cache). Two arms in one run, visit by visit in
// turn: "today" (`?hbg-early=off`: nothing to choose before the module has
// started) and "early" (the first step from the gateway, usable at once).
// Each visit records, from navigation, when the first choice (a course or
// product button) is visible and clickable; from clicking it, when the next
// step's heading shows; and the bytes transferred by then (every response's
// encoded size, headers included). The results are merged as `slow_phone`
// into the JSON at `$HBG_BENCH_RESULTS`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { test, type Browser } from "@playwright/test";
import { startStack, type Stack } from "../support/stack";

/** Measured visits of each arm. */
const RUNS = 5;

/** Lighthouse's mobile profile, in the units CDP takes. */
const NETWORK = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1024 * 1024) / 8,
  uploadThroughput: (750 * 1024) / 8,
};
const CPU_SLOWDOWN = 4;

/** The two load paths: today's, and with the early step. */
const ARMS = { today: "agency.html?hbg-early=off", early: "agency.html" } as const;
type Arm = keyof typeof ARMS;

/** One visit's figures. */
interface Visit {
  first_choice_ms: number;
  next_step_ms: number;
  bytes: number;
}

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

/** The first choice's button in the widget's shadow root, when it is visible and enabled. */
function firstChoice(): number | false {
  const root = document.querySelector("hbg-booking")?.shadowRoot;
  const button = root?.querySelector<HTMLButtonElement>(".hbg-choices button");
  if (!button || button.disabled || !button.checkVisibility()) return false;
  return performance.now();
}

/** When a step heading other than `first` is visible in the widget. */
function nextHeading(first: string): number | false {
  const root = document.querySelector("hbg-booking")?.shadowRoot;
  for (const heading of root?.querySelectorAll<HTMLElement>(".hbg-heading") ?? []) {
    if (heading.checkVisibility() && heading.textContent?.trim() !== first) return performance.now();
  }
  return false;
}

async function visit(browser: Browser, arm: Arm): Promise<Visit> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", NETWORK);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
  let bytes = 0;
  cdp.on("Network.loadingFinished", (event) => (bytes += event.encodedDataLength));
  await page.addInitScript(() => {
    addEventListener("click", () => ((window as any).hbgFirstClick ??= performance.now()), true);
  });
  await page.goto(`${stack.gateway.url}/${ARMS[arm]}`, { waitUntil: "commit" });
  const shown = (await (await page.waitForFunction(firstChoice, undefined, { polling: "raf" })).jsonValue()) as number;
  const root = page.locator("hbg-booking");
  const first = (await root.locator(".hbg-heading").first().textContent())?.trim() ?? "";
  await root.locator(".hbg-choices button").first().click();
  const next = (await (await page.waitForFunction(nextHeading, first, { polling: "raf" })).jsonValue()) as number;
  const spent = bytes;
  const clicked = await page.evaluate(() => (window as any).hbgFirstClick as number);
  await context.close();
  return { first_choice_ms: shown, next_step_ms: next - clicked, bytes: spent };
}

test("the first choice on a slow phone, today's load path and the early step", async ({ browser }) => {
  test.setTimeout(600_000);
  const results: Record<Arm, Visit[]> = { today: [], early: [] };
  // One visit of each arm first warms the servers' caches.
  for (let run = 0; run <= RUNS; run++) {
    for (const arm of Object.keys(ARMS) as Arm[]) {
      const figures = await visit(browser, arm);
      if (run > 0) results[arm].push(figures);
    }
  }
  const path = process.env.HBG_BENCH_RESULTS;
  if (!path) throw new Error("HBG_BENCH_RESULTS is not set: run the benchmarks with `cargo xtask bench`");
  const merged = existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : {};
  merged.slow_phone = results;
  writeFileSync(path, JSON.stringify(merged, null, 2));
});
