// The iframe mode: <hbg-booking-frame> in an agency's page whose CSP has no
// 'wasm-unsafe-eval', showing the gateway's embed.html.
import { test, expect, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { AGENCY, book, bookCheckingEachStep, heardEvents, recordEvents, serveHostPage } from "./support/embed";
import { stepChecker } from "./support/steps";

// The gateway listens on 127.0.0.1 here but on a public address in real
// life: let the agency's (public) page reach it, as it would reach a public one.
test.use({ permissions: ["local-network-access"] });

/** Another site of the agency's, also allowed to frame the gateway's pages. */
const OTHER_AGENCY = "https://other-agency.example";

/** A site with no business with the widget. */
const EVIL = "https://evil.example";

let stack: Stack;

test.beforeAll(async () => {
  // The gateway lets the agency's sites frame its pages (frame-ancestors) and call its API.
  stack = await startStack({ gatewayArgs: ["--allowed-origins", `${AGENCY},${OTHER_AGENCY}`] });
});

test.afterAll(async () => {
  await stack?.stop();
});

/** The CSP the README documents for the iframe mode: no wasm in the host page. */
function iframeModeCsp(): string {
  return `default-src 'none'; script-src ${stack.gateway.url}; frame-src ${stack.gateway.url}`;
}

/** Collects CSP violations and console errors of the host page. */
async function watchProblems(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.effectiveDirective} ${event.blockedURI}`);
    });
  });
  return problems;
}

/** An agency page with the frame element, under the iframe mode's CSP (or `csp`). */
async function openFramePage(page: Page, attributes: string, csp = iframeModeCsp()): Promise<void> {
  const html = `<!DOCTYPE html>
<html lang="en-GB">
  <head>
    <meta charset="utf-8">
    <title>Training at Northwest Care Staffing</title>
    <script type="module" src="${stack.gateway.url}/frame.js"></script>
  </head>
  <body>
    <h1>Book your training</h1>
    <hbg-booking-frame id="frame" ${attributes}></hbg-booking-frame>
    <p>After the widget.</p>
  </body>
</html>`;
  await serveHostPage(page, `${AGENCY}/training*`, html, { "content-security-policy": csp });
  await page.goto(`${AGENCY}/training`);
}

/** The iframe's height on the page, and its document's height inside. */
async function heights(page: Page): Promise<{ frame: number; content: number; scrolls: boolean }> {
  const frame = await page.locator("hbg-booking-frame iframe").evaluate((iframe) => iframe.clientHeight);
  const inner = page.frame({ url: /\/embed\.html/ })!;
  const { content, scrolls } = await inner.evaluate(() => ({
    content: document.documentElement.getBoundingClientRect().height,
    scrolls: document.documentElement.scrollHeight > window.innerHeight + 1,
  }));
  return { frame, content, scrolls };
}

test("the iframe mode completes a booking, sizes the iframe to its content and forwards every event", async ({
  page,
}) => {
  const problems = await watchProblems(page);
  await recordEvents(page);
  await openFramePage(
    page,
    `course="1" first-name="Priya" last-name="Patel" email="priya.patel@carestaff.example"`,
  );
  const widget = page.frameLocator("hbg-booking-frame iframe");
  const heading = widget.getByRole("heading", { level: 2 });
  await expect(heading).toHaveText("Choose a location");
  // The course came in the URL; the candidate's fields did not.
  const src = await page.locator("hbg-booking-frame iframe").getAttribute("src");
  expect(src).toContain("course=1");
  expect(src).toContain(`parent=${encodeURIComponent(AGENCY)}`);
  expect(src).not.toMatch(/Priya|Patel|carestaff/);

  // Sized to the content: no inner scrolling, no gap, and it follows the content.
  await expect.poll(async () => Math.abs((await heights(page)).frame - (await heights(page)).content)).toBeLessThan(2);
  const atLocation = await heights(page);
  expect(atLocation.scrolls).toBe(false);
  await widget.getByRole("button", { name: /^Any location/ }).click();
  await widget.getByRole("button", { name: /seats? left/ }).first().click();
  await expect(heading).toHaveText("Your details");
  await expect.poll(async () => Math.abs((await heights(page)).frame - (await heights(page)).content)).toBeLessThan(2);
  const atDetails = await heights(page);
  expect(atDetails.scrolls).toBe(false);
  expect(Math.abs(atDetails.frame - atLocation.frame)).toBeGreaterThan(50);

  // The candidate fields came by message.
  await expect(widget.getByLabel("First name", { exact: true })).toHaveValue("Priya");
  await book(widget, { fromDetails: true, payOption: "Use a booking credit" });

  await expect
    .poll(async () => (await heardEvents(page)).map((event) => event.type))
    .toEqual([
      "hbg:ready",
      "hbg:course-chosen",
      "hbg:location-chosen",
      "hbg:event-chosen",
      "hbg:hold-created",
      "hbg:submit-started",
      "hbg:booking-created",
      "hbg:booking-confirmed",
    ]);
  const heard = await heardEvents(page);
  for (const event of heard) {
    expect(event.target, event.type).toBe("frame");
    expect(event.bubbles && event.composed, event.type).toBe(true);
  }
  const created = heard.find((event) => event.type === "hbg:booking-created")!.detail;
  expect(created).toMatchObject({ booking_status: "booked", pay_status: "completed" });
  // In the iframe mode too, the booking's own page is the host page with its link.
  const here = page.url().split(/[?#]/)[0].replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");
  expect(heard.find((event) => event.type === "hbg:booking-confirmed")!.detail).toEqual({
    product: "practical",
    booking_id: created.booking_id,
    manage_url: expect.stringMatching(new RegExp(`^${here}\\?hbg-booking=pt\\.${created.booking_id}\\.`)),
  });
  expect(JSON.stringify(heard)).not.toMatch(/Priya|Patel|carestaff|@/);
  expect(problems).toEqual([]);
});

for (const width of [320, 1280]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 800 } });

    test("axe-core finds nothing on the agency's page at any step of a booking, inside the iframe's document included", async ({
      page,
    }, testInfo) => {
      await openFramePage(page, "");
      const check = stepChecker(page, testInfo);
      await bookCheckingEachStep(page.frameLocator("hbg-booking-frame iframe"), (name) =>
        check(name, { inIframe: true }),
      );
    });
  });
}

test("a card payment leaves the host page for the payment page and comes back to it, confirmed", async ({
  page,
}) => {
  const problems = await watchProblems(page);
  await recordEvents(page);
  await openFramePage(page, `course="2" first-name="Owen" last-name="Hughes" email="owen.hughes@carestaff.example"`);
  const widget = page.frameLocator("hbg-booking-frame iframe");
  await book(widget, { location: /^Any location/, payOption: "Pay by card", untilConfirmed: false });

  // The whole tab goes to the payment page, not the iframe.
  await page.waitForURL(`${stack.sandbox.url}/**`);
  await page.getByRole("button", { name: /^Pay/ }).click();

  // Back on the agency's page (the address frame.js sent), the widget
  // picks the booking up, paid.
  await page.waitForURL(`${AGENCY}/training**`);
  await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Booking confirmed", { timeout: 15_000 });
  await expect.poll(async () => (await heardEvents(page)).map((event) => event.type)).toContain("hbg:booking-confirmed");
  expect(problems).toEqual([]);
});

test("messages from anywhere but the widget's iframe and gateway are ignored, both ways", async ({ page }) => {
  await recordEvents(page);
  await openFramePage(page, `course="1"`);
  const widget = page.frameLocator("hbg-booking-frame iframe");
  await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Choose a location");
  await expect.poll(async () => Math.abs((await heights(page)).frame - (await heights(page)).content)).toBeLessThan(2);
  const before = await heights(page);

  // The host page's own window pretending to be the iframe, then a marker
  // message: messages from one window to another are delivered in order,
  // so once the marker arrives the forged ones have been handled (their
  // handlers act at once: they set the iframe's height, dispatch the event).
  await page.evaluate(async () => {
    const marked = new Promise<void>((resolve) =>
      window.addEventListener("message", (event) => event.data === "marker" && resolve()),
    );
    window.postMessage({ type: "hbg:resize", height: 7 }, "*");
    window.postMessage({ type: "hbg:booking-confirmed", detail: { booking_id: 1 } }, "*");
    window.postMessage("marker", "*");
    await marked;
  });
  // The iframe's own window pretending to be the host page; embed.html
  // would set the attribute on its element at once.
  const course = await page.frame({ url: /\/embed\.html/ })!.evaluate(async () => {
    const marked = new Promise<void>((resolve) =>
      window.addEventListener("message", (event) => event.data === "marker" && resolve()),
    );
    window.postMessage({ type: "hbg:attributes", attributes: { course: "4" } }, "*");
    window.postMessage("marker", "*");
    await marked;
    return document.querySelector("hbg-booking")!.getAttribute("course");
  });
  expect(course).toBe("1");
  expect((await heights(page)).frame).toBe(before.frame);
  expect((await heardEvents(page)).map((event) => event.type)).not.toContain("hbg:booking-confirmed");
  await expect(widget.getByText("CSTF Mandatory Practical Skills", { exact: true })).toBeVisible();

  // The element's own attribute change does get through.
  await page.locator("hbg-booking-frame").evaluate((element) => element.setAttribute("course", "4"));
  await expect(widget.getByText("Basic Life Support Practical", { exact: true })).toBeVisible();
});

test("the host page ignores its own iframe's window once it shows another origin, and hears it again back on the gateway", async ({
  page,
}) => {
  await recordEvents(page);
  // The iframe mode's CSP with the other site also allowed in frame-src, so
  // that nothing but frame.js's origin check stands in the way.
  const gateway = stack.gateway.url;
  await openFramePage(
    page,
    `course="1" first-name="Priya"`,
    `default-src 'none'; script-src ${gateway}; frame-src ${gateway} ${EVIL}`,
  );
  const widget = page.frameLocator("hbg-booking-frame iframe");
  await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Choose a location");
  await expect.poll(async () => Math.abs((await heights(page)).frame - (await heights(page)).content)).toBeLessThan(2);
  const before = (await heights(page)).frame;
  const eventTypes = async () => (await heardEvents(page)).map((event) => event.type);
  const eventsBefore = await eventTypes();
  expect(eventsBefore).toContain("hbg:ready");
  const embedUrl = page.frame({ url: /\/embed\.html/ })!.url();

  // What reaches the host page's window, registered after frame.js's listener
  // (so frame.js has handled a message by the time it is recorded).
  await page.evaluate(() => {
    const iframe = document.querySelector("hbg-booking-frame")!.shadowRoot!.querySelector("iframe")!;
    const heard: { origin: string; fromIframe: boolean; type: unknown }[] = [];
    Object.defineProperty(window, "__messages", { value: heard });
    addEventListener("message", (event) =>
      heard.push({ origin: event.origin, fromIframe: event.source === iframe.contentWindow, type: event.data?.type }),
    );
  });
  const messagesFrom = (origin: string) =>
    page.evaluate(
      (origin) =>
        (window as unknown as { __messages: { origin: string; fromIframe: boolean; type: unknown }[] }).__messages.filter(
          (message) => message.origin === origin,
        ),
      origin,
    );

  // The iframe goes to another site: the same window, another origin.
  await serveHostPage(page, `${EVIL}/**`, `<!DOCTYPE html><html lang="en"><title>Elsewhere</title><p>Not the widget.</p></html>`);
  // Navigating from a task of its own (not a sleep) lets `evaluate` return
  // before the frame's document goes away.
  await page.frame({ url: /\/embed\.html/ })!.evaluate((url) => void setTimeout(() => (location.href = url)), `${EVIL}/page`);
  await expect.poll(() => page.frame({ url: `${EVIL}/page` }) !== null).toBe(true);
  const elsewhere = page.frame({ url: `${EVIL}/page` })!;
  await elsewhere.waitForLoadState();
  await elsewhere.evaluate(() => {
    const received: unknown[] = [];
    Object.defineProperty(window, "__received", { value: received });
    addEventListener("message", (event) => received.push(event.data));
    for (const message of [
      { type: "hbg:resize", height: 7 },
      { type: "hbg:booking-confirmed", detail: { booking_id: 1 } },
      { type: "hbg:storage", key: "hbg:forged", value: "forged" },
      { type: "hbg:connect" },
    ]) {
      parent.postMessage(message, "*");
    }
  });
  await expect.poll(async () => (await messagesFrom(EVIL)).length).toBe(4);
  expect(await messagesFrom(EVIL)).toEqual(
    ["hbg:resize", "hbg:booking-confirmed", "hbg:storage", "hbg:connect"].map((type) => ({
      origin: EVIL,
      fromIframe: true,
      type,
    })),
  );
  // None of them was acted on: no resize, no event, nothing stored...
  expect(await page.locator("hbg-booking-frame iframe").evaluate((iframe) => iframe.clientHeight)).toBe(before);
  expect(await eventTypes()).toEqual(eventsBefore);
  expect(
    await page.evaluate(() => Object.entries(sessionStorage).filter(([key, value]) => key.includes("forged") || value === "forged")),
  ).toEqual([]);
  // ...and no candidate's details reached the other site: not in answer to
  // its hbg:connect, nor on an attribute change, which frame.js sends to the
  // gateway's origin only. A message the host page sends after them arrives
  // after anything frame.js sent.
  await page.locator("hbg-booking-frame").evaluate((element) => element.setAttribute("first-name", "Priyanka"));
  await page.locator("hbg-booking-frame iframe").evaluate((iframe: HTMLIFrameElement) =>
    iframe.contentWindow!.postMessage({ type: "test:last" }, "*"),
  );
  await expect
    .poll(() => elsewhere.evaluate(() => (window as unknown as { __received: unknown[] }).__received))
    .toEqual([{ type: "test:last" }]);

  // Back on the gateway, the same window is heard again: it connects, gets
  // the candidate's details, sizes the iframe and forwards its events.
  // (Navigating from a task of its own, as above: not a sleep.)
  await elsewhere.evaluate((url) => void setTimeout(() => (location.href = url)), embedUrl);
  await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Choose a location");
  await expect.poll(async () => (await eventTypes()).filter((type) => type === "hbg:ready")).toHaveLength(2);
  await expect.poll(async () => Math.abs((await heights(page)).frame - (await heights(page)).content)).toBeLessThan(2);
  await widget.getByRole("button", { name: /^Any location/ }).click();
  await widget.getByRole("button", { name: /seats? left/ }).first().click();
  await expect(widget.getByLabel("First name", { exact: true })).toHaveValue("Priyanka");
});

test("embed.html ignores settings from the window that frames it when that window is not on the origin named by parent", async ({
  page,
}) => {
  // Another site of the agency's (allowed to frame the gateway) frames
  // embed.html twice: once naming the agency's main site as its parent, once
  // naming itself; then it sends both the same settings.
  const src = (parent: string, instance: string) =>
    `${stack.gateway.url}/embed.html?course=1&instance=${instance}&parent=${encodeURIComponent(parent)}`;
  const html = `<!DOCTYPE html>
<html lang="en-GB">
  <head><meta charset="utf-8"><title>Other site</title></head>
  <body>
    <iframe id="claimed" title="Claimed parent" src="${src(AGENCY, "claimed")}"></iframe>
    <iframe id="own" title="Own parent" src="${src(OTHER_AGENCY, "own")}"></iframe>
  </body>
</html>`;
  await serveHostPage(page, `${OTHER_AGENCY}/training`, html);
  await page.goto(`${OTHER_AGENCY}/training`);
  const claimed = page.frameLocator("#claimed");
  const own = page.frameLocator("#own");
  // Without settings from its parent, each shows the widget after a second.
  for (const widget of [claimed, own]) {
    await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Choose a location");
    await expect(widget.getByText("CSTF Mandatory Practical Skills", { exact: true })).toBeVisible();
  }
  const frames = {
    claimed: page.frame({ url: /instance=claimed/ })!,
    own: page.frame({ url: /instance=own/ })!,
  };
  // What reaches each iframe's window, registered after embed.js's listener.
  for (const frame of Object.values(frames)) {
    await frame.evaluate(() => {
      const heard: { origin: string; fromParent: boolean; type: unknown }[] = [];
      Object.defineProperty(window, "__messages", { value: heard });
      addEventListener("message", (event) =>
        heard.push({ origin: event.origin, fromParent: event.source === window.parent, type: event.data?.type }),
      );
    });
  }
  await page.evaluate(() => {
    for (const id of ["claimed", "own"]) {
      (document.getElementById(id) as HTMLIFrameElement).contentWindow!.postMessage(
        {
          type: "hbg:attributes",
          attributes: { course: "4", "first-name": "Mallory" },
          storage: { "hbg:forged": "forged" },
        },
        "*",
      );
    }
  });
  const settings = async (frame: (typeof frames)["own"]) => {
    await expect
      .poll(() => frame.evaluate(() => (window as unknown as { __messages: unknown[] }).__messages))
      .toEqual([{ origin: OTHER_AGENCY, fromParent: true, type: "hbg:attributes" }]);
    return frame.evaluate(() => {
      const element = document.querySelector("hbg-booking")!;
      return { course: element.getAttribute("course"), firstName: element.getAttribute("first-name") };
    });
  };
  // The iframe whose parent is another origin than it was told ignores them...
  expect(await settings(frames.claimed)).toEqual({ course: "1", firstName: null });
  // ...while the same message from the origin it was told is taken.
  expect(await settings(frames.own)).toEqual({ course: "4", firstName: "Mallory" });
  await expect(own.getByText("Basic Life Support Practical", { exact: true })).toBeVisible();
  await expect(claimed.getByText("CSTF Mandatory Practical Skills", { exact: true })).toBeVisible();
  await expect(claimed.getByText("Basic Life Support Practical", { exact: true })).toHaveCount(0);
});

test("embed.html with a parent that is not an origin still shows the widget, and tells no one", async ({ page }) => {
  const warnings: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "warning") warnings.push(message.text());
  });
  await page.goto(`${stack.gateway.url}/embed.html?course=2&parent=${encodeURIComponent("https://agency.example/page")}`);
  await expect(page.getByRole("heading", { level: 2 })).toHaveText("Choose a location");
  expect(warnings).toEqual(
    expect.arrayContaining([expect.stringContaining(`ignoring parent="https://agency.example/page"`)]),
  );
});

test("a gateway attribute that is not an http(s) URL warns and falls back to frame.js's gateway", async ({ page }) => {
  const warnings: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "warning") warnings.push(message.text());
  });
  await openFramePage(page, `gateway="javascript:alert(1)" course="2"`);
  await expect(page.frameLocator("hbg-booking-frame iframe").getByRole("heading", { level: 2 })).toHaveText(
    "Choose a location",
  );
  expect(await page.locator("hbg-booking-frame iframe").getAttribute("src")).toMatch(
    new RegExp(`^${stack.gateway.url}/embed\\.html\\?`),
  );
  expect(warnings).toEqual(
    expect.arrayContaining([expect.stringContaining(`ignoring gateway="javascript:alert(1)" (not an http(s) URL`)]),
  );
});

test("the demo agency page shows the iframe mode", async ({ page }) => {
  await page.goto(`${stack.gateway.url}/agency-iframe.html`);
  const widget = page.frameLocator("hbg-booking-frame iframe");
  await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Choose a course");
  await expect.poll(async () => Math.abs((await heights(page)).frame - (await heights(page)).content)).toBeLessThan(2);
  await expect(page.locator("#event-log")).toContainText("hbg:ready");
});
