// The upstream's rate limit is shared by every candidate of the agency.
// When holds and bookings would pass it, the gateway queues them: the
// candidate is told, the wait counts down, and the request goes through by
// itself on its turn, with nothing lost and nothing booked twice.
import { test, expect } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, theOneBookingMadeBy } from "./support/data";
import { stepChecker } from "./support/steps";
import {
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  findEvent,
  openWidget,
  stepHeading,
  toPayment,
} from "./support/widget";

/** The upstream's limit here: 6 calls in 14 seconds (15 with the gateway's margin). */
const LIMIT = 6;

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack({
    gatewayArgs: ["--upstream-rate-limit", String(LIMIT), "--upstream-rate-window", "14"],
  });
});

test.afterAll(async () => {
  await stack?.stop();
});

const course = COURSES.movingAndHandling;

/**
 * Other candidates of the agency (a session each) holding seats through the
 * same gateway until the upstream's window is spent: the last of their
 * holds is queued.
 */
async function spendTheWindow(): Promise<void> {
  for (let held = 0; held < LIMIT; held += 1) {
    const options = await fetch(`${stack.gateway.url}/api/options`);
    const session = ((await options.json()) as { session: string }).session;
    const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
    const answer = await fetch(`${stack.gateway.url}/api/holds`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hbg-session": session },
      body: JSON.stringify({ event_id: event.id }),
    });
    if (answer.status === 503) {
      expect(await answer.json()).toMatchObject({ queue_ticket: expect.any(String) });
      return;
    }
    expect(answer.status).toBe(200);
  }
  throw new Error("the gateway never queued a hold");
}

test("a hold over the shared rate limit waits its turn, counting down, then goes through by itself", async ({
  page,
}, testInfo) => {
  test.setTimeout(60_000);
  const check = stepChecker(page, testInfo);
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await chooseCourse(page, course.name);
  await chooseLocation(page, event.location.name);
  const button = await findEvent(page, event);
  await spendTheWindow();

  await button.click();
  const queued = page.locator(".hbg-queue");
  await expect(queued).toContainText("Lots of candidates are booking right now, so your request is queued");
  await expect(queued).toContainText(/goes through in \d+ seconds?/);
  const first = Number((await queued.textContent())?.match(/in (\d+) second/)?.[1]);
  await check("hold queued");
  await expect(queued).toContainText(new RegExp(`in (?!${first} )\\d+ second`), { timeout: 5_000 });

  await expect(stepHeading(page, "Your details")).toBeVisible({ timeout: 20_000 });
  await expect(queued).toHaveCount(0);
});

test("a booking over the shared rate limit waits its turn and is booked once", async ({ page }) => {
  test.setTimeout(60_000);
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await chooseCourse(page, course.name);
  await chooseLocation(page, event.location.name);
  await (await findEvent(page, event)).click();
  await expect(stepHeading(page, "Your details")).toBeVisible({ timeout: 30_000 });
  await toPayment(page, PRIYA, "credits");

  const made = await theOneBookingMadeBy(stack, async () => {
    await spendTheWindow();
    await confirmButton(page).click();
    await expect(page.locator(".hbg-queue")).toContainText("your request is queued");
    await expect(stepHeading(page, "Booking confirmed")).toBeVisible({ timeout: 30_000 });
  });
  expect(made).toMatchObject({ pay_option: "credits", candidate: { name: "Priya Patel" } });
});
