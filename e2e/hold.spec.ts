// The seat hold: expiry mid-form, keeping the seat, another session
// holding it, the seat selling out before it is held, and releasing it
// when the candidate leaves.
import { test, expect } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, theOneBookingMadeBy } from "./support/data";
import {
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  dayButton,
  eventButton,
  expectDetails,
  expectStep,
  fillDetails,
  findEvent,
  freshHold,
  holdSeat,
  labelsOf,
  openWidget,
  recordApiCalls,
  showMonth,
  toPayment,
  widget,
} from "./support/widget";

const THIRTY_MINUTES_AND_A_SECOND = 1801;

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

const course = COURSES.movingAndHandling;

// The sandbox refuses a booking whose hold lapsed with a 422 about the hold
// (`hold_hash`, renamed `hold_ref` by the gateway): the widget must take that
// as the hold having ended, keep everything typed and offer to hold again.
test("the hold lapses on the server mid-form: the booking is refused, everything is kept, hold again and book", async ({ page }) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "credits");
  await stack.advanceClock(THIRTY_MINUTES_AND_A_SECOND);

  await confirmButton(page).click();
  await expectStep(page, "Your seat is no longer held");
  await expect(page.getByRole("alert")).toContainText("Everything you entered is kept");

  const made = await theOneBookingMadeBy(stack, async () => {
    await page.getByRole("button", { name: "Hold this seat again" }).click();
    await expectStep(page, "How the booking is paid for");
    await expect(page.getByRole("radio", { name: "Use a booking credit" })).toBeChecked();
    await page.getByRole("button", { name: "Back" }).click();
    await expectStep(page, "Your details");
    await expectDetails(page, PRIYA);
    await page.getByRole("button", { name: "Continue" }).click();
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(made).toMatchObject({ pay_option: "credits", candidate: { name: "Priya Patel" } });
});

test("the countdown runs out mid-form: every field is kept, the seat is held again and booked", async ({ page }) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  // The browser's timers and performance.now() run under Playwright's clock,
  // so thirty minutes can pass at once; the sandbox's clock moves with it.
  await page.clock.install();
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await expect(freshHold(page)).toBeVisible();
  await fillDetails(page, PRIYA);

  await page.clock.fastForward("20:01");
  await expect(widget(page).getByText("10 minutes left to complete your booking", { exact: true })).toBeAttached();
  await page.clock.fastForward("10:00");
  await stack.advanceClock(THIRTY_MINUTES_AND_A_SECOND);
  await expectStep(page, "Your seat is no longer held");
  await expect(page.getByRole("alert")).toContainText("Everything you entered is kept");
  await expect(page.getByRole("button", { name: "Choose another date" })).toBeVisible();

  const made = await theOneBookingMadeBy(stack, async () => {
    await page.getByRole("button", { name: "Hold this seat again" }).click();
    await expectStep(page, "Your details");
    await expect(freshHold(page)).toBeVisible();
    await expectDetails(page, PRIYA);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("radio", { name: "Invoice the agency" }).check();
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(made).toMatchObject({
    pay_option: "inv",
    candidate: { name: "Priya Patel", email: PRIYA.email, phone: "+447700900123", job_role: PRIYA.jobRole },
  });
});

test("in the final minute, Keep my seat holds the seat for another 30 minutes", async ({ page }) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  const calls = recordApiCalls(page);
  await page.clock.install();
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await fillDetails(page, PRIYA);
  await expect(page.getByRole("button", { name: "Keep my seat" })).toBeHidden();

  await page.clock.fastForward("29:30");
  await expect(widget(page).getByText(/^Seat held: 0:[0-5]\d left$/)).toBeVisible();
  await expect(
    widget(page).getByText("1 minute left to complete your booking. Select Keep my seat for more time"),
  ).toBeAttached();
  await page.getByRole("button", { name: "Keep my seat" }).click();
  await expect(freshHold(page)).toBeVisible();
  await expectStep(page, "Your details");
  await expectDetails(page, PRIYA);
  // One request renews the hold: the gateway replaces it without a moment in
  // which another candidate could take the seat.
  const holds = calls.filter((c) => c.path.startsWith("/holds") && !c.path.includes("/pay-options"));
  expect(holds.map((c) => c.method)).toEqual(["POST", "POST"]);
  // The account's pay options are read once for the place, not again for the renewed hold.
  expect(calls.filter((c) => c.path.includes("/pay-options")).map((c) => c.method)).toEqual(["GET"]);

  // The new hold is live on the server: the booking goes through.
  await page.clock.fastForward("25:00");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("radio", { name: "Use a booking credit" }).check();
  await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
});

test("another session holds the seat: the widget says until when, offers another date, and holds it once released", async ({
  page,
  browser,
}) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  const other = await browser.newContext();
  try {
    const otherPage = await other.newPage();
    await openWidget(otherPage, stack.gateway.url);
    await holdSeat(otherPage, course.name, event);

    await openWidget(page, stack.gateway.url);
    await chooseCourse(page, course.name);
    await chooseLocation(page, LOCATIONS.leeds.name);
    await (await findEvent(page, event)).click();
    await expectStep(page, "This seat is already held");
    await expect(page.getByRole("alert")).toHaveText(
      /^Another candidate is booking this date right now\. If they do not finish, it is free again at \d\d:\d\d: choose another date, or try again then\.$/,
    );
    await page.getByRole("button", { name: "Choose another date" }).click();
    await expectStep(page, "Choose a date and time");
    // The calendar promises no seat on it now.
    await expect(await findEvent(page, event)).toContainText("another candidate is booking it right now");
    await expect(await findEvent(page, event)).not.toContainText("seats left");

    // The other candidate goes back, which releases the seat.
    await otherPage.getByRole("button", { name: "Back" }).click();
    await expectStep(otherPage, "Choose a date and time");

    await (await findEvent(page, event)).click();
    await expectStep(page, "Your details");
    await toPayment(page, PRIYA, "inv");
    await theOneBookingMadeBy(stack, async () => {
      await confirmButton(page).click();
      await expectStep(page, "Booking confirmed");
    });
  } finally {
    await other.close();
  }
});

test("waiting for another candidate's seat: a visible countdown, Stop waiting cancels, and the seat is held the moment it frees", async ({
  page,
  browser,
}) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  const other = await browser.newContext();
  try {
    const otherPage = await other.newPage();
    await openWidget(otherPage, stack.gateway.url);
    await holdSeat(otherPage, course.name, event);

    await page.clock.install();
    await openWidget(page, stack.gateway.url);
    await chooseCourse(page, course.name);
    await chooseLocation(page, LOCATIONS.leeds.name);
    await (await findEvent(page, event)).click();
    await expectStep(page, "This seat is already held");
    const wait = page.getByRole("button", { name: "Wait and hold it for me" });
    await wait.click();
    await expectStep(page, "Waiting for this seat");
    const timer = widget(page).getByRole("timer");
    await expect(timer).toHaveText(/^Free again in (30:0[0-2]|29:[5]\d)$/);
    await page.clock.fastForward("01:00");
    await expect(timer).toHaveText(/^Free again in (29:0[0-2]|28:[5]\d)$/);

    // Stop waiting: nothing is held later.
    await page.getByRole("button", { name: "Stop waiting" }).click();
    await expectStep(page, "This seat is already held");
    await expect(timer).toHaveCount(0);
    await wait.click();
    await expectStep(page, "Waiting for this seat");

    // The other candidate's hold lapses upstream; the widget holds the seat
    // when its countdown runs out, and the candidate carries on.
    await stack.advanceClock(1800);
    await page.clock.fastForward("29:05");
    await expectStep(page, "Your details");
    await expect(freshHold(page)).toBeVisible();
    await toPayment(page, PRIYA, "inv");
    await theOneBookingMadeBy(stack, async () => {
      await confirmButton(page).click();
      await expectStep(page, "Booking confirmed");
    });
  } finally {
    await other.close();
  }
});

test("the seat sells out between choosing and holding: the widget explains and offers another date", async ({ page }) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id, capacity: 2 });
  const labels = labelsOf(event);
  await openWidget(page, stack.gateway.url);
  await chooseCourse(page, course.name);
  await chooseLocation(page, LOCATIONS.leeds.name);
  const choice = await findEvent(page, event);
  await expect(choice).toHaveAccessibleName(`${labels.choice}, 2 seats left £95`);

  expect((await stack.fillEvent(event.id)).remaining_slots).toBe(0);
  await choice.click();
  await expectStep(page, "There is a problem");
  await expect(page.getByRole("alert")).toContainText("This training event is fully booked.");
  await expect(page.getByRole("button", { name: "Try again" })).toBeHidden();

  await page.getByRole("button", { name: "Choose another date" }).click();
  await expectStep(page, "Choose a date and time");
  await showMonth(page, labels.month);
  await dayButton(page, labels.date).click();
  await expect(page.getByRole("listitem").filter({ hasText: `${labels.choice}, Full` })).toBeVisible();
  await expect(eventButton(page, event)).toHaveCount(0);
});

test("leaving the page releases the seat for other candidates", async ({ page }) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  const held = await stack.sandboxApi(`/training-events/${event.id}/hold`, { method: "POST" });
  expect(held.status, "the widget's hold is live").toBe(409);

  await page.goto("about:blank");
  // The gateway keeps the seat for its release grace (15 seconds), in case
  // the page was only reloading, then lets it go.
  let hold: { hold_hash: string } | undefined;
  await expect
    .poll(
      async () => {
        const response = await stack.sandboxApi(`/training-events/${event.id}/hold`, { method: "POST" });
        if (response.status === 200) hold = await response.json();
        return response.status;
      },
      { timeout: 30_000 },
    )
    .toBe(200);
  await stack.sandboxApi(`/training-events/hold/${hold!.hold_hash}`, { method: "DELETE" });
});
