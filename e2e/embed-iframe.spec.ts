// The iframe mode: <hbg-booking-frame> in an agency's page whose CSP has no
// 'wasm-unsafe-eval', showing the gateway's embed.html.
import { test, expect, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { AGENCY, book, heardEvents, recordEvents, serveHostPage } from "./support/embed";

// The gateway listens on 127.0.0.1 here but on a public address in real
// life: let the agency's (public) page reach it, as it would reach a public one.
test.use({ permissions: ["local-network-access"] });

let stack: Stack;

test.beforeAll(async () => {
  // The gateway lets the agency frame its pages (frame-ancestors) and call its API.
  stack = await startStack({ gatewayArgs: ["--allowed-origins", AGENCY] });
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

/** An agency page with the frame element, under the iframe mode's CSP. */
async function openFramePage(page: Page, attributes: string): Promise<void> {
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
  await serveHostPage(page, `${AGENCY}/training*`, html, { "content-security-policy": iframeModeCsp() });
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
  expect(heard.find((event) => event.type === "hbg:booking-confirmed")!.detail).toEqual({
    booking_id: created.booking_id,
  });
  expect(JSON.stringify(heard)).not.toMatch(/Priya|Patel|carestaff|@/);
  expect(problems).toEqual([]);
});

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

  // The host page's own window pretending to be the iframe.
  await page.evaluate(() => {
    window.postMessage({ type: "hbg:resize", height: 7 }, "*");
    window.postMessage({ type: "hbg:booking-confirmed", detail: { booking_id: 1 } }, "*");
  });
  // The iframe's own window pretending to be the host page.
  await page
    .frame({ url: /\/embed\.html/ })!
    .evaluate(() => window.postMessage({ type: "hbg:attributes", attributes: { course: "4" } }, "*"));
  await page.waitForTimeout(500);
  expect((await heights(page)).frame).toBe(before.frame);
  expect((await heardEvents(page)).map((event) => event.type)).not.toContain("hbg:booking-confirmed");
  await expect(widget.getByText("CSTF Mandatory Practical Skills", { exact: true })).toBeVisible();

  // The element's own attribute change does get through.
  await page.locator("hbg-booking-frame").evaluate((element) => element.setAttribute("course", "4"));
  await expect(widget.getByText("Basic Life Support Practical", { exact: true })).toBeVisible();
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
