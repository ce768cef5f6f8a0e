// A booking is made at most once: a double click on "Confirm booking", and
// a booking whose response is lost on the way back (the sandbox made it,
// the widget never heard) submitted again.
import { test, expect, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, theOneBookingMadeBy } from "./support/data";
import {
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  expectStep,
  findEvent,
  holdSeat,
  openWidget,
  recordApiCalls,
  shownReference,
  toPayment,
} from "./support/widget";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

const course = COURSES.movingAndHandling;

/** Opens the widget with a seat held and the pay option chosen. */
async function readyToConfirm(page: Page): Promise<void> {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "credits");
}

/** Lets the first request to `path` reach the gateway, then cuts its answer. */
async function dropFirstAnswer(page: Page, path: string): Promise<void> {
  await page.route(
    `${stack.gateway.url}${path}`,
    async (route) => {
      await route.fetch();
      await route.abort("connectionreset");
    },
    { times: 1 },
  );
}

/** The idempotency keys of the widget's booking requests, in order. */
function bookingKeys(calls: ReturnType<typeof recordApiCalls>): string[] {
  return calls
    .filter((c) => c.method === "POST" && c.path === "/bookings")
    .map((c) => c.request.headers()["idempotency-key"]);
}

test("a double click on Confirm booking sends one request and makes one booking", async ({ page }) => {
  await readyToConfirm(page);
  const calls = recordApiCalls(page);
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).dblclick();
    await expectStep(page, "Booking confirmed");
  });
  expect(await shownReference(page)).toBe(made.id);
  expect(bookingKeys(calls)).toHaveLength(1);
});

test("the answer is lost, Try again: the same booking comes back, no second one", async ({ page }) => {
  await readyToConfirm(page);
  const calls = recordApiCalls(page);
  await dropFirstAnswer(page, "/api/bookings");

  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "There is a problem");
    await expect(page.getByRole("alert")).toHaveText(/you will not be booked twice/);
    await page.getByRole("button", { name: "Try again" }).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(await shownReference(page)).toBe(made.id);
  const keys = bookingKeys(calls);
  expect(keys).toHaveLength(2);
  expect(keys[1]).toBe(keys[0]);
});

test("the answer is lost, Back and Confirm booking again: the same booking comes back, no second one", async ({
  page,
}) => {
  await readyToConfirm(page);
  const calls = recordApiCalls(page);
  await dropFirstAnswer(page, "/api/bookings");

  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "There is a problem");
    await page.getByRole("button", { name: "Back" }).click();
    await expectStep(page, "How the booking is paid for");
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(await shownReference(page)).toBe(made.id);
  const keys = bookingKeys(calls);
  expect(keys).toHaveLength(2);
  expect(keys[1]).toBe(keys[0]);
});

// A lost answer to holding the seat must not lock the candidate out of
// their own hold: "Try again" meets the sandbox's 409 (one live hold per
// account and event), and the gateway, which remembers which session was
// granted which hold, hands the candidate's own hold back.
test("the answer to holding the seat is lost, Try again: the candidate gets the seat", async ({ page }) => {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await chooseCourse(page, course.name);
  await chooseLocation(page, LOCATIONS.leeds.name);
  await dropFirstAnswer(page, "/api/holds");
  await (await findEvent(page, event)).click();
  await expectStep(page, "There is a problem");
  await page.getByRole("button", { name: "Try again" }).click();
  await expectStep(page, "Your details");
});
