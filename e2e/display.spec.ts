// The widget as people with other display settings see it: Windows' high
// contrast (forced colours), reduced motion, the page zoomed to 200% and
// 400% (WCAG's reflow at 320 CSS px), and an agency page written right to
// left. Each is a complete booking, checked with axe-core at each step.
import { test, expect, type Page, type TestInfo } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, theOneBookingMadeBy } from "./support/data";
import { gate, stepChecker } from "./support/steps";
import {
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  expectStep,
  fillDetails,
  findEvent,
  openWidget,
  shownReference,
  stepHeading,
  widget,
  PAY_OPTIONS,
} from "./support/widget";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

const course = COURSES.movingAndHandling;

/** Whether the page scrolls sideways now. */
async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/**
 * A booking from the course step to the confirmation, checking each step
 * with `check` (axe-core, no sideways scrolling, a screenshot) and, once
 * more, that the page does not scroll sideways.
 */
async function bookCheckingSteps(page: Page, testInfo: TestInfo, url = stack.gateway.url): Promise<number> {
  const check = stepChecker(page, testInfo);
  const step = async (name: string) => {
    await check(name);
    expect(await scrollsSideways(page), `no sideways scrolling on "${name}"`).toBe(false);
  };
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, url);
  await step("course");
  await chooseCourse(page, course.name);
  await step("location");
  await chooseLocation(page, event.location.name);
  const choice = await findEvent(page, event);
  await step("date and time");
  await choice.click();
  await expectStep(page, "Your details");
  await step("details");
  await fillDetails(page, PRIYA);
  await page.getByRole("button", { name: "Continue" }).click();
  await expectStep(page, "How the booking is paid for");
  await page.getByRole("radio", { name: PAY_OPTIONS.inv }).check();
  await step("payment");
  let reference = 0;
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
    reference = await shownReference(page);
  });
  expect(made.id).toBe(reference);
  expect(made).toMatchObject({ pay_option: "inv", candidate: { name: "Priya Patel" } });
  await step("confirmation");
  return reference;
}

/** The focus ring of the element that has the focus inside the widget. */
async function focusRing(page: Page): Promise<{ style: string; width: number; tag: string }> {
  return widget(page).evaluate((element) => {
    const focused = element.shadowRoot!.activeElement as HTMLElement | null;
    if (!focused) return { style: "none", width: 0, tag: "" };
    const style = getComputedStyle(focused);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), tag: focused.tagName };
  });
}

/** Every animation and transition running in the widget's shadow root. */
async function runningAnimations(page: Page): Promise<string[]> {
  return widget(page).evaluate((element) =>
    element.shadowRoot!.getAnimations().map((animation) => (animation as CSSAnimation).animationName ?? "transition"),
  );
}

/**
 * Opens the widget and chooses the course with its dates held back, so
 * that the location step's loading placeholder (the widget's moving part)
 * shows; answers a function that lets them through.
 */
async function showLoadingDates(page: Page): Promise<() => void> {
  const held = gate();
  await page.route(
    (url) => url.pathname === "/api/training-events",
    async (route) => {
      await held.wait();
      await route.continue();
    },
  );
  await openWidget(page, stack.gateway.url);
  await chooseCourse(page, course.name);
  return async () => {
    held.open();
    await page.unroute((url) => url.pathname === "/api/training-events");
  };
}

test("with forced colours, the widget keeps visible controls and focus, passes axe-core and books", async ({
  page,
}, testInfo) => {
  await page.emulateMedia({ forcedColors: "active" });
  expect(await page.evaluate(() => matchMedia("(forced-colors: active)").matches)).toBe(true);
  await openWidget(page, stack.gateway.url);
  // Choices stay outlined as buttons (backgrounds are gone in forced colours).
  const choice = page.getByRole("button", { name: /^Moving & Handling Practical £/ });
  const border = await choice.evaluate((element) => {
    const style = getComputedStyle(element);
    return { style: style.borderTopStyle, width: parseFloat(style.borderTopWidth) };
  });
  expect(border.style).toBe("solid");
  expect(border.width).toBeGreaterThanOrEqual(1);
  // The keyboard focus shows as an outline (box shadows are dropped).
  await choice.focus();
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Tab");
  await expect(choice).toBeFocused();
  const ring = await focusRing(page);
  expect(ring.style).not.toBe("none");
  expect(ring.width).toBeGreaterThanOrEqual(2);

  await bookCheckingSteps(page, testInfo);
});

test("with reduced motion, nothing in the widget moves and it books", async ({ page }, testInfo) => {
  // Without the preference, the loading placeholder does move: the check
  // below can see an animation when there is one.
  const release = await showLoadingDates(page);
  await expect(widget(page).getByRole("status").filter({ hasText: /Loading/ })).toBeVisible();
  await expect.poll(() => runningAnimations(page)).not.toEqual([]);
  await release();

  await page.emulateMedia({ reducedMotion: "reduce" });
  expect(await page.evaluate(() => matchMedia("(prefers-reduced-motion: reduce)").matches)).toBe(true);
  const releaseAgain = await showLoadingDates(page);
  await expect(widget(page).getByRole("status").filter({ hasText: /Loading/ })).toBeVisible();
  expect(await runningAnimations(page)).toEqual([]);
  const placeholders = await widget(page).evaluate((element) =>
    [...element.shadowRoot!.querySelectorAll(".hbg-spinner, .hbg-skeleton-row")].map(
      (placeholder) => getComputedStyle(placeholder).animationName,
    ),
  );
  expect(placeholders.length).toBeGreaterThan(0);
  expect(new Set(placeholders)).toEqual(new Set(["none"]));
  await releaseAgain();
  await expect(page.getByRole("button", { name: /^Leeds / })).toBeVisible();
  expect(await runningAnimations(page)).toEqual([]);

  await bookCheckingSteps(page, testInfo);
});

// Zooming a 1280 px wide window to 200% leaves 640 CSS px, and to 400%
// 320 CSS px: the width WCAG's reflow criterion names.
for (const { zoom, width, height } of [
  { zoom: 200, width: 640, height: 400 },
  { zoom: 400, width: 320, height: 256 },
]) {
  test.describe(`at ${zoom}% zoom`, () => {
    test.use({ viewport: { width, height }, deviceScaleFactor: zoom / 100 });

    test(`at ${zoom}% zoom (${width} CSS px), the widget reflows without sideways scrolling and books`, async ({
      page,
    }, testInfo) => {
      expect(await page.evaluate(() => [window.innerWidth, window.devicePixelRatio])).toEqual([width, zoom / 100]);
      await bookCheckingSteps(page, testInfo);
      // The confirmation's "Add to calendar" is within reach, not off to one side.
      const box = (await page.getByRole("button", { name: "Add to calendar" }).boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(width);
    });
  });
}

test("on a right-to-left agency page, the widget shows its English left to right and books", async ({ page }, testInfo) => {
  const url = `${stack.gateway.url}/rtl-agency.html`;
  await page.route(url, (route) =>
    route.fulfill({
      status: 200,
      contentType: "text/html; charset=utf-8",
      body: `<!DOCTYPE html>
<html lang="ar" dir="rtl">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>التدريب العملي</title>
    <script type="module" src="/widget.js"></script>
  </head>
  <body>
    <main>
      <h1>احجز تدريبك العملي</h1>
      <hbg-booking api="/api"></hbg-booking>
    </main>
  </body>
</html>`,
    }),
  );
  await openWidget(page, url);
  expect(await page.evaluate(() => getComputedStyle(document.body).direction)).toBe("rtl");
  // The widget speaks English only: its text runs left to right (else
  // punctuation and prices at the ends of its sentences swap sides).
  const heading = stepHeading(page, "Choose a course");
  expect(await heading.evaluate((element) => getComputedStyle(element).direction)).toBe("ltr");
  await bookCheckingSteps(page, testInfo, url);
});
