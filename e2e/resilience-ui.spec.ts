// What a candidate does that the widget must take calmly: a double click on
// a date, a reload in the middle of the form, and the same booking open in
// two tabs. Each ends with at most one hold and at most one booking.
import { test, expect } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, bookings, newEvent, theOneBookingMadeBy } from "./support/data";
import { stepChecker } from "./support/steps";
import {
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  expectStep,
  findEvent,
  freshHold,
  holdSeat,
  openWidget,
  recordApiCalls,
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

/** Whether the sandbox account can hold a seat of the event now (then lets it go). */
async function accountCanHold(eventId: number): Promise<boolean> {
  const response = await stack.sandboxApi(`/training-events/${eventId}/hold`, { method: "POST" });
  if (response.status === 200) {
    const { hold_hash } = await response.json();
    await stack.sandboxApi(`/training-events/hold/${hold_hash}`, { method: "DELETE" });
  }
  return response.status === 200;
}

/** The event's seats left, as the sandbox counts them. */
async function seatsLeft(eventId: number): Promise<number> {
  const response = await stack.sandboxApi(`/training-events/${eventId}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { remaining_slots: number }).remaining_slots;
}

test("a double click on a date holds one seat with one request", async ({ page }) => {
  const calls = recordApiCalls(page);
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  const again = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await chooseCourse(page, course.name);
  await chooseLocation(page, event.location.name);
  await (await findEvent(page, event)).dblclick();
  await expectStep(page, "Your details");
  await expect(freshHold(page)).toBeVisible();

  const holds = calls.filter((call) => call.method === "POST" && call.path === "/holds");
  expect(holds, "hold requests").toHaveLength(1);
  expect((await holds[0].request.response())?.status()).toBe(200);
  expect(JSON.parse(holds[0].request.postData() ?? "{}")).toMatchObject({ event_id: event.id });
  // The widget's one hold is live: the account cannot hold the seat again.
  expect(await accountCanHold(event.id)).toBe(false);
  // Back releases it, and nothing else was left holding the seat.
  await page.getByRole("button", { name: "Back" }).click();
  await expectStep(page, "Choose a date and time");
  await expect.poll(() => accountCanHold(event.id)).toBe(true);
  expect(await seatsLeft(event.id)).toBe(event.remaining_slots);

  // Faster than any hand: two clicks in one task, before the widget has
  // drawn anything in between. Still one hold request.
  await (await findEvent(page, again)).evaluate((button: HTMLElement) => {
    button.click();
    button.click();
  });
  await expectStep(page, "Your details");
  await expect(freshHold(page)).toBeVisible();
  const holdsOfAgain = calls.filter(
    (call) => call.method === "POST" && call.path === "/holds" && JSON.parse(call.request.postData() ?? "{}").event_id === again.id,
  );
  expect(holdsOfAgain, "hold requests for the second event").toHaveLength(1);
  expect(await accountCanHold(again.id)).toBe(false);
});

test("a reload mid-hold takes up the same hold, its countdown not reset", async ({ page }) => {
  const calls = recordApiCalls(page);
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await expect(freshHold(page)).toBeVisible();
  const holds = () => calls.filter((call) => call.method === "POST" && call.path === "/holds");
  expect(holds()).toHaveLength(1);
  const first = await (await holds()[0].request.response())!.json();

  await page.reload();
  await expectStep(page, "Your details");
  await expect.poll(() => holds().length).toBe(2);
  const response = (await holds()[1].request.response())!;
  expect(response.status()).toBe(200);
  const again = await response.json();
  expect(again.hold_ref, "the same hold, taken up again").toBe(first.hold_ref);
  expect(again.hold.hold_hash).toBe(first.hold.hold_hash);
  expect(again.hold.expires_in_seconds, "the countdown goes on from where it was").toBeLessThanOrEqual(
    first.hold.expires_in_seconds,
  );
  await expect(widget(page).getByText(/^Seat held for \d+ minutes?$/)).toBeVisible();
  expect(await accountCanHold(event.id), "the seat is still held").toBe(false);

  await toPayment(page, PRIYA, "credits");
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(made).toMatchObject({ candidate: { name: "Priya Patel" }, pay_option: "credits" });
});

test("one candidate in two tabs: the second tab is told the seat is being booked, and one booking is made", async ({
  page,
  context,
}, testInfo) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  const second = await context.newPage();
  const secondCalls = recordApiCalls(second);
  await openWidget(page, stack.gateway.url);
  await openWidget(second, stack.gateway.url);
  await chooseCourse(second, course.name);
  await chooseLocation(second, event.location.name);
  const inSecond = await findEvent(second, event);

  // The first tab holds the seat and gets ready to confirm.
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "credits");

  // The second tab tries the same date: it is told plainly, and holds nothing.
  await inSecond.click();
  await expectStep(second, "This seat is already held");
  await expect(second.getByRole("alert")).toHaveText(
    /^Another candidate is booking this date right now\. If they do not finish, it is free again at \d\d:\d\d: choose another date, or try again then\.$/,
  );
  await expect(second.getByRole("button", { name: "Choose another date" })).toBeVisible();
  await stepChecker(second, testInfo)("second tab told the seat is held");
  const secondHolds = secondCalls.filter((call) => call.method === "POST" && call.path === "/holds");
  expect(secondHolds).toHaveLength(1);
  expect((await secondHolds[0].request.response())?.status()).toBe(409);
  expect(secondCalls.filter((call) => call.method === "POST" && call.path === "/bookings")).toHaveLength(0);

  // The first tab books, once.
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(made).toMatchObject({ candidate: { name: "Priya Patel" }, pay_option: "credits" });
  expect((await bookings(stack)).filter((booking) => booking.candidate.email === PRIYA.email && booking.start_date === event.start_date)).toHaveLength(1);
  expect(await seatsLeft(event.id)).toBe(event.remaining_slots - 1);
});
