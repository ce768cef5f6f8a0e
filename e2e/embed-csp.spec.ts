// The Content-Security-Policy the README documents for a host page: the
// widget runs under it with no violation, and the check would see one.
import { test, expect, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { AGENCY, book, heardEvents, recordEvents, serveHostPage } from "./support/embed";

// The gateway listens on 127.0.0.1 here but on a public address in real
// life: let the agency's (public) page reach it, as it would reach a public one.
test.use({ permissions: ["local-network-access"] });

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack({ gatewayArgs: ["--allowed-origins", AGENCY] });
});

test.afterAll(async () => {
  await stack?.stop();
});

/**
 * The README's policy for the element mode, on top of the strictest base
 * (`default-src 'none'`): whatever else the widget needed would be refused.
 */
function documentedCsp(): string {
  const gateway = stack.gateway.url;
  return `default-src 'none'; script-src ${gateway} 'wasm-unsafe-eval'; connect-src ${gateway}`;
}

/** Opens an agency page under `csp`, collecting violations and console errors. */
async function openUnderPolicy(page: Page, csp: string): Promise<string[]> {
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
  await recordEvents(page);
  const html = `<!DOCTYPE html>
<html lang="en-GB">
  <head>
    <meta charset="utf-8">
    <title>Training at Northwest Care Staffing</title>
    <script type="module" src="${stack.gateway.url}/widget.js"></script>
  </head>
  <body>
    <h1>Book your training</h1>
    <hbg-booking id="widget" course="1"></hbg-booking>
  </body>
</html>`;
  await serveHostPage(page, `${AGENCY}/training`, html, { "content-security-policy": csp });
  await page.goto(`${AGENCY}/training`);
  return problems;
}

test("a host page with the documented CSP runs the widget, through a booking, without a violation", async ({
  page,
}) => {
  const problems = await openUnderPolicy(page, documentedCsp());
  const widget = page.locator("hbg-booking#widget");
  // Styled: the adopted stylesheet applies (a 44 px target, not the browser's default button).
  await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Choose a location");
  expect(await widget.locator(".hbg-choice").first().evaluate((button) => getComputedStyle(button).minHeight)).toBe(
    "44px",
  );
  await book(widget, { location: /^Any location/, payOption: "Use a booking credit" });
  expect((await heardEvents(page)).map((event) => event.type)).toContain("hbg:booking-confirmed");
  // Leaving the page releases nothing here (the seat is booked) but sends
  // nothing the policy refuses either.
  await page.goto("about:blank");
  expect(problems).toEqual([]);
});

test("the check sees a violation: without 'wasm-unsafe-eval' the widget says it could not load", async ({ page }) => {
  const gateway = stack.gateway.url;
  const problems = await openUnderPolicy(page, `default-src 'none'; script-src ${gateway}; connect-src ${gateway}`);
  const widget = page.locator("hbg-booking#widget");
  await expect(widget.getByText("The booking form could not load. Reload the page to try again.")).toBeVisible();
  expect(problems).toEqual(expect.arrayContaining([expect.stringContaining("CSP violation: script-src wasm-eval")]));
});
