// The upstream's rate limit is shared by every candidate of the agency.
// When holds and bookings would pass it, the gateway queues them: the
// candidate is told, the wait counts down, and the request goes through by
// itself on its turn, with nothing lost and nothing booked twice.
import { test, expect, type Page, type Request } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, theOneBookingMadeBy } from "./support/data";
import { stepChecker } from "./support/steps";
import {
  PRIYA,
  recordApiCalls,
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

/** The widget's own cap on one wait (`MAX_QUEUE_WAIT_SECONDS`). */
const MAX_WAIT_SECONDS = 120;

/**
 * Records, from now on, every number of seconds the queued message shows
 * ("goes through in N seconds"), each time it changes: a MutationObserver on
 * the widget's shadow root sees every change, however short.
 */
async function recordCountdown(page: Page): Promise<() => Promise<number[]>> {
  await page.locator("hbg-booking").evaluate((element) => {
    const shown: number[] = [];
    Object.defineProperty(window, "__countdown", { value: shown });
    const root = element.shadowRoot!;
    new MutationObserver(() => {
      const text = root.querySelector(".hbg-queue")?.textContent ?? "";
      const match = /in (\d+) seconds?/.exec(text);
      if (match && Number(match[1]) !== shown[shown.length - 1]) shown.push(Number(match[1]));
    }).observe(root, { childList: true, subtree: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { __countdown: number[] }).__countdown);
}

/** A queued write as the widget sent it: each request, its answer's status and body. */
interface Sent {
  request: Request;
  at: number;
  status: number;
  body: Record<string, unknown>;
}

/** Every `POST /api{path}` the widget sent, with its answer (read once it has come). */
async function sentWrites(calls: ReturnType<typeof recordApiCalls>, path: string, at: Map<Request, number>): Promise<Sent[]> {
  const writes = calls.filter((call) => call.method === "POST" && call.path === path);
  return Promise.all(
    writes.map(async ({ request }) => {
      const response = (await request.response())!;
      return { request, at: at.get(request)!, status: response.status(), body: (await response.json()) as Record<string, unknown> };
    }),
  );
}

/**
 * A write queued once, as the top of this file says: sent without a ticket
 * and answered 503 with a place in the queue, then sent once more, by
 * itself, with that place's ticket (and the same body) after the wait it was
 * told, and answered `success` (200 for a hold, 201 for a booking). The
 * countdown showed every second of that wait, from the number the gateway
 * gave down to 1, never going up.
 */
function expectQueuedOnce(sent: Sent[], countdown: number[], success: number): void {
  expect(sent.map((write) => write.status), "the write's answers, in order").toEqual([503, success]);
  const [queued, through] = sent;
  expect(queued.request.headers()["x-hbg-queue-ticket"]).toBeUndefined();
  const ticket = queued.body.queue_ticket as string;
  const seconds = queued.body.queued_for_seconds as number;
  expect(ticket).toEqual(expect.any(String));
  expect(seconds).toBeGreaterThan(0);
  expect(through.request.headers()["x-hbg-queue-ticket"]).toBe(ticket);
  expect(through.request.postData()).toBe(queued.request.postData());
  const waited = Math.min(seconds, MAX_WAIT_SECONDS);
  // Sent again only once the whole wait has passed (a second a step).
  expect(through.at - queued.at).toBeGreaterThanOrEqual(waited * 1000 - 500);
  expect(countdown, "the countdown shown").toEqual(Array.from({ length: waited }, (_, i) => waited - i));
}

/** When each request was sent, as Playwright saw it. */
function timeRequests(page: Page): Map<Request, number> {
  const at = new Map<Request, number>();
  page.on("request", (request) => at.set(request, Date.now()));
  return at;
}

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
  const calls = recordApiCalls(page);
  const at = timeRequests(page);
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  const countdown = await recordCountdown(page);
  await chooseCourse(page, course.name);
  await chooseLocation(page, event.location.name);
  const button = await findEvent(page, event);
  await spendTheWindow();

  await button.click();
  const queued = page.locator(".hbg-queue");
  await expect(queued).toContainText("Lots of candidates are booking right now, so your request is queued");
  await expect(queued).toContainText(/goes through in \d+ seconds?/);
  await check("hold queued");

  await expect(stepHeading(page, "Your details")).toBeVisible({ timeout: 20_000 });
  await expect(queued).toHaveCount(0);
  expectQueuedOnce(await sentWrites(calls, "/holds", at), await countdown(), 200);
  // The hold the second request got is the widget's: it shows it.
  await expect(page.getByText(/^Seat held for (30|29) minutes$/)).toBeVisible();
});

test("a booking over the shared rate limit waits its turn and is booked once", async ({ page }) => {
  test.setTimeout(60_000);
  const calls = recordApiCalls(page);
  const at = timeRequests(page);
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  const countdown = await recordCountdown(page);
  await chooseCourse(page, course.name);
  await chooseLocation(page, event.location.name);
  await (await findEvent(page, event)).click();
  await expect(stepHeading(page, "Your details")).toBeVisible({ timeout: 30_000 });
  await toPayment(page, PRIYA, "credits");
  // The hold may itself have been queued behind the last test's calls:
  // only the booking's countdown is checked below.
  await page.evaluate(() => (window as unknown as { __countdown: number[] }).__countdown.splice(0));

  const made = await theOneBookingMadeBy(stack, async () => {
    await spendTheWindow();
    await confirmButton(page).click();
    await expect(page.locator(".hbg-queue")).toContainText("your request is queued");
    await expect(stepHeading(page, "Booking confirmed")).toBeVisible({ timeout: 30_000 });
  });
  expect(made).toMatchObject({ pay_option: "credits", candidate: { name: "Priya Patel" } });
  const sent = await sentWrites(calls, "/bookings", at);
  expectQueuedOnce(sent, await countdown(), 201);
  expect(sent[1].request.headers()["idempotency-key"]).toBe(sent[0].request.headers()["idempotency-key"]);
  expect(sent[1].body).toMatchObject({ booking: { id: made.id } });
});
