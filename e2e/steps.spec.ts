// Every step of the widget at 320 px and 1280 px wide: axe-core finds no
// WCAG 2.x A or AA violation, nothing scrolls sideways, and a screenshot of
// each is kept under e2e/artifacts.
import { test, expect } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent } from "./support/data";
import { faultCall } from "./support/faults";
import { gate, stepChecker } from "./support/steps";
import {
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  expectStep,
  fillDetails,
  freshHold,
  findEvent,
  holdSeat,
  openWidget,
  toPayment,
  widget,
} from "./support/widget";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

const course = COURSES.movingAndHandling;

for (const width of [320, 1280]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 800 } });

    test("the booking path, from the first step to the confirmation", async ({ page }, testInfo) => {
      const check = stepChecker(page, testInfo);
      const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
      const courses = gate();
      await page.route(`${stack.gateway.url}/api/courses`, async (route) => {
        await courses.wait();
        await route.continue();
      });
      // The module's own loading state shows without the early step.
      await page.goto(`${stack.gateway.url}/?hbg-early=off`);
      await expect(page.getByRole("status").filter({ hasText: "Loading courses" })).toBeVisible();
      await check("loading");
      courses.open();
      await expectStep(page, "Choose a course");
      await expect(page.getByRole("button", { name: /^Moving & Handling/ })).toBeVisible();
      await check("choose a course");

      await chooseCourse(page, course.name);
      await expect(page.getByRole("button", { name: /^Any location/ })).toBeVisible();
      await check("choose a location");

      await chooseLocation(page, LOCATIONS.leeds.name);
      await findEvent(page, event);
      const narrow = width < 600;
      await check(narrow ? "dates as a list" : "dates as a calendar");
      await page.getByRole("button", { name: narrow ? "Calendar" : "List", exact: true }).click();
      await expect(page.getByRole("grid")).toBeVisible({ visible: narrow });
      await check(narrow ? "dates as a calendar" : "dates as a list");
      await page.getByRole("button", { name: narrow ? "List" : "Calendar", exact: true }).click();

      const hold = gate();
      await page.route(`${stack.gateway.url}/api/holds`, async (route) => {
        await hold.wait();
        await route.continue();
      });
      await (await findEvent(page, event)).click();
      await expectStep(page, "Holding your seat");
      await check("holding your seat");
      hold.open();
      await expectStep(page, "Your details");
      await check("your details");

      await page.getByRole("button", { name: "Continue" }).click();
      await expect(page.getByRole("heading", { name: "There is a problem" })).toBeVisible();
      await check("your details with errors");

      await toPayment(page, PRIYA, "credits");
      await check("how the booking is paid for");

      const booking = gate();
      await page.route(`${stack.gateway.url}/api/bookings`, async (route) => {
        await booking.wait();
        await route.continue();
      });
      await confirmButton(page).click();
      await expectStep(page, "Booking your seat");
      await check("booking your seat");
      booking.open();
      await expectStep(page, "Booking confirmed");
      await check("booking confirmed");
    });

    test("pending review, the card payment and the hold's final minute", async ({ page }, testInfo) => {
      const check = stepChecker(page, testInfo);
      const review = await newEvent(stack, { courseId: COURSES.pmva.id, locationId: LOCATIONS.leeds.id });
      await openWidget(page, stack.gateway.url);
      await holdSeat(page, COURSES.pmva.name, review);
      await toPayment(page, PRIYA, "inv");
      await confirmButton(page).click();
      await expectStep(page, "Booking received: pending review");
      await check("booking received, pending review");

      const card = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
      await page.clock.install();
      await openWidget(page, stack.gateway.url);
      await holdSeat(page, course.name, card);
      await fillDetails(page, PRIYA);
      await page.clock.fastForward("29:15");
      await expect(page.getByRole("button", { name: "Keep my seat" })).toBeVisible();
      await check("the hold's final minute");
      await page.getByRole("button", { name: "Keep my seat" }).click();
      await expect(freshHold(page)).toBeVisible();

      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByRole("radio", { name: "Pay by card" }).check();
      await check("pay by card chosen");
      await confirmButton(page).click();
      await page.waitForURL(`${stack.sandbox.url}/checkout/**`);
      await expect(page.getByRole("heading", { level: 1, name: "Checkout" })).toBeVisible();
      await check("the checkout page", { widget: false });
      await page.goBack();
      await expectStep(page, "Complete the payment");
      await check("complete the payment");
    });

    test("the steps that explain a problem", async ({ page, browser }, testInfo) => {
      const check = stepChecker(page, testInfo);
      const held = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
      const failing = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
      const refused = await newEvent(stack, { courseId: COURSES.fireSafety.id, locationId: LOCATIONS.leeds.id });

      const options = await faultCall(page, "options", "abort", Infinity);
      await page.goto(stack.gateway.url);
      await expect(page.getByRole("button", { name: "Try again" })).toBeVisible();
      expect(options).toHaveLength(3);
      await check("the service cannot be reached");
      await page.unrouteAll();

      const other = await browser.newContext();
      try {
        const otherPage = await other.newPage();
        await openWidget(otherPage, stack.gateway.url);
        await holdSeat(otherPage, course.name, held);
        await page.getByRole("button", { name: "Try again" }).click();
        await chooseCourse(page, course.name);
        await chooseLocation(page, LOCATIONS.leeds.name);
        await (await findEvent(page, held)).click();
        await expectStep(page, "This seat is already held");
        await check("this seat is already held");
      } finally {
        await other.close();
      }

      await page.getByRole("button", { name: "Choose another date" }).click();
      await faultCall(page, "hold", "500");
      await (await findEvent(page, failing)).click();
      await expectStep(page, "There is a problem");
      await check("there is a problem");
      await page.getByRole("button", { name: "Try again" }).click();
      await expectStep(page, "Your details");

      await page.context().setOffline(true);
      await expect(page.getByText(/^You are offline\./)).toBeVisible();
      await check("offline");
      await page.context().setOffline(false);
      // Back from the details lets the seat go, so the page opened again
      // starts afresh (a page reopened with a seat held takes it up again).
      await page.getByRole("button", { name: "Back" }).click();
      await expectStep(page, "Choose a date and time");

      await page.clock.install();
      await openWidget(page, stack.gateway.url);
      await holdSeat(page, COURSES.fireSafety.name, refused);
      await toPayment(page, PRIYA, "balance");
      await expect(page.getByRole("radio", { name: "Use a booking credit" })).toBeDisabled();
      await expect(widget(page)).toContainText("No credits left for this course");
      await check("a pay option the account cannot use");

      await page.clock.fastForward("30:01");
      await expectStep(page, "Your seat is no longer held");
      await check("your seat is no longer held");
    });
  });
}
