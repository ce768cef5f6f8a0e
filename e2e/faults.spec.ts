// Faults on each of the widget's calls in turn (cut, 500, 429 with
// Retry-After, slow): the widget recovers by itself where it may (reads),
// explains and offers a way on where it may not (writes), and nothing the
// candidate typed is lost. Every test ends with exactly one booking.
import { test, expect, type Page } from "@playwright/test";
import { startStack, type SandboxEvent, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, theOneBookingMadeBy } from "./support/data";
import { FAULTS, RETRY_AFTER_SECONDS, faultCall } from "./support/faults";
import {
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  expectDetails,
  expectStep,
  findEvent,
  holdSeat,
  openWidget,
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

function leedsEvent(): Promise<SandboxEvent> {
  return newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
}

/** From a held seat to the confirmation, by invoice. */
async function bookHeldSeat(page: Page): Promise<void> {
  await toPayment(page, PRIYA, "inv");
  await confirmButton(page).click();
  await expectStep(page, "Booking confirmed");
}

/** The loading message each read shows while it waits. */
const LOADING: Record<"options" | "courses" | "events", string> = {
  options: "Loading courses",
  courses: "Loading courses",
  events: "Loading locations",
};

/** The widget's page without the early step: the module's own reads and loading states. */
function withoutEarlyStep(): string {
  return `${stack.gateway.url}/?hbg-early=off`;
}

for (const call of ["options", "courses", "events"] as const) {
  for (const fault of FAULTS) {
    const outcome = fault === "slow" ? "the widget says it is loading, then carries on" : "the widget recovers by itself";
    test(`reading ${call}, ${fault}: ${outcome}`, async ({ page }) => {
      const event = await leedsEvent();
      const attempts = await faultCall(page, call, fault);

      await theOneBookingMadeBy(stack, async () => {
        await page.goto(withoutEarlyStep());
        if (call !== "events" && fault === "slow") {
          await expect(page.getByRole("status").filter({ hasText: LOADING[call] })).toBeVisible();
        }
        await chooseCourse(page, course.name);
        if (call === "events" && fault === "slow") {
          await expect(page.getByRole("status").filter({ hasText: LOADING[call] })).toBeVisible();
        }
        await chooseLocation(page, LOCATIONS.leeds.name);
        await (await findEvent(page, event)).click();
        await expectStep(page, "Your details");
        await bookHeldSeat(page);
      });

      expect(attempts).toHaveLength(fault === "slow" ? 1 : 2);
      if (fault === "429") {
        expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000);
      }
    });
  }

  test(`reading ${call} keeps failing: the widget explains, and tries again when asked`, async ({ page }) => {
    const event = await leedsEvent();
    const attempts = await faultCall(page, call, "abort", Infinity);
    await page.goto(withoutEarlyStep());
    if (call === "events") await chooseCourse(page, course.name);

    const problem = page.getByRole("alert");
    await expect(problem).toHaveText(/We could not reach the booking service\. Check your connection and try again\./);
    expect(attempts, "reads are tried three times").toHaveLength(3);
    await page.unrouteAll();

    await theOneBookingMadeBy(stack, async () => {
      await problem.getByRole("button", { name: "Try again" }).click();
      if (call !== "events") await chooseCourse(page, course.name);
      await chooseLocation(page, LOCATIONS.leeds.name);
      await (await findEvent(page, event)).click();
      await expectStep(page, "Your details");
      await bookHeldSeat(page);
    });
  });
}

for (const fault of FAULTS) {
  const outcome =
    fault === "slow" ? "the widget says it is holding the seat, then holds it" : "the widget explains and holds it when asked again";
  test(`holding the seat, ${fault}: ${outcome}`, async ({ page }) => {
    const event = await leedsEvent();
    const attempts = await faultCall(page, "hold", fault);
    await openWidget(page, stack.gateway.url);
    await chooseCourse(page, course.name);
    await chooseLocation(page, LOCATIONS.leeds.name);
    await (await findEvent(page, event)).click();

    if (fault === "slow") {
      await expectStep(page, "Holding your seat");
      await expect(page.getByRole("status").filter({ hasText: "Holding a seat for you…" })).toBeVisible();
    } else {
      await expectStep(page, "There is a problem");
      await expect(page.getByRole("alert")).toHaveText(
        "We could not hold your seat. Check your connection and try again",
      );
      await expect(page.getByRole("button", { name: "Choose another date" })).toBeVisible();
      await page.getByRole("button", { name: "Try again" }).click();
    }
    await expectStep(page, "Your details");
    await theOneBookingMadeBy(stack, () => bookHeldSeat(page));
    expect(attempts).toHaveLength(fault === "slow" ? 1 : 2);
  });
}

for (const fault of FAULTS) {
  const outcome =
    fault === "slow"
      ? "the confirm button stays disabled until the one booking is made"
      : "the widget explains, keeps everything, and books once";
  test(`confirming the booking, ${fault}: ${outcome}`, async ({ page }) => {
    const event = await leedsEvent();
    await openWidget(page, stack.gateway.url);
    await holdSeat(page, course.name, event);
    await toPayment(page, PRIYA, "inv");
    const attempts = await faultCall(page, "booking", fault);

    const made = await theOneBookingMadeBy(stack, async () => {
      await confirmButton(page).click();
      if (fault === "slow") {
        await expectStep(page, "Booking your seat");
        await expect(page.getByRole("button", { name: "Booking your seat…" })).toBeDisabled();
      } else {
        await expectStep(page, "There is a problem");
        await expect(page.getByRole("alert")).toHaveText(
          "We could not confirm your booking. Try again: you will not be booked twice",
        );
        await expect(page.getByRole("button", { name: "Try again" })).toBeVisible();
        await page.getByRole("button", { name: "Back" }).click();
        await expectStep(page, "How the booking is paid for");
        await expect(page.getByRole("radio", { name: "Invoice the agency" })).toBeChecked();
        await page.getByRole("button", { name: "Back" }).click();
        await expectStep(page, "Your details");
        await expectDetails(page, PRIYA);
        await page.getByRole("button", { name: "Continue" }).click();
        await confirmButton(page).click();
      }
      await expectStep(page, "Booking confirmed");
    });

    expect(made).toMatchObject({ pay_option: "inv", candidate: { name: "Priya Patel", email: PRIYA.email } });
    expect(attempts).toHaveLength(fault === "slow" ? 1 : 2);
    const keys = new Set(attempts.map((a) => a.headers["idempotency-key"]));
    expect(keys.size, "one idempotency key for the one booking").toBe(1);
  });
}

test("going offline: the banner says so, a confirm that cannot be sent is retried once online, one booking", async ({
  page,
  context,
}) => {
  const event = await leedsEvent();
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "inv");
  const offline = page.getByText(/^You are offline\./);
  await expect(offline).toBeHidden();

  await context.setOffline(true);
  await expect(offline).toBeVisible();
  await confirmButton(page).click();
  await expectStep(page, "There is a problem");

  await context.setOffline(false);
  await expect(offline).toBeHidden();
  await theOneBookingMadeBy(stack, async () => {
    await page.getByRole("button", { name: "Try again" }).click();
    await expectStep(page, "Booking confirmed");
  });
});

test("reading the booking back after paying, one 500: the widget retries and shows the paid booking", async ({ page }) => {
  const event = await leedsEvent();
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "candidate_pays");
  await confirmButton(page).click();
  await page.waitForURL(`${stack.sandbox.url}/checkout/**`);
  const reads = await faultRead(page, 1);
  await page.getByRole("button", { name: "Pay £95" }).click();
  await expectStep(page, "Booking confirmed");
  expect(reads).toHaveLength(2);
});

// Coming back from the payment page, the widget reads the booking again: if
// that keeps failing it says so and tries again when asked, and never
// forgets a booking the candidate has paid for.
test("reading the booking back after paying keeps failing: the widget explains and tries again", async ({ page }) => {
  const event = await leedsEvent();
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "candidate_pays");
  await confirmButton(page).click();
  await page.waitForURL(`${stack.sandbox.url}/checkout/**`);
  await faultRead(page, Infinity);
  await page.getByRole("button", { name: "Pay £95" }).click();
  await expectStep(page, "There is a problem");
  await page.unrouteAll();
  await page.getByRole("button", { name: "Try again" }).click();
  await expectStep(page, "Booking confirmed");
});

// A release that fails (Back from the details) does not lock the candidate
// out of the same seat: the widget offers the unreleased hold with its next
// hold, and the gateway hands it back.
test("a release that fails does not lock the candidate out of the same seat", async ({ page }) => {
  const event = await leedsEvent();
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await page.route("**/api/holds/*", (route) => route.abort("failed"), { times: 1 });
  await page.getByRole("button", { name: "Back" }).click();
  await (await findEvent(page, event)).click();
  await expectStep(page, "Your details");
});

/** Routes the widget's reads of a booking: the first `faulty` answer 500. */
async function faultRead(page: Page, faulty: number): Promise<number[]> {
  const reads: number[] = [];
  await page.route(`${stack.gateway.url}/api/bookings/*`, async (route) => {
    reads.push(Date.now());
    if (reads.length <= faulty) return route.fulfill({ status: 500, json: { message: "Server Error" } });
    return route.continue();
  });
  return reads;
}
