// The test stack itself: the gateway reaches the sandbox with the demo
// account, and the helpers change what a widget would see.
import { test, expect } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";

const CLOCK_START = "2026-11-22T10:00:00Z";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack({ clockStart: CLOCK_START });
});

test.afterAll(async () => {
  await stack?.stop();
});

/** A widget session at the gateway. */
async function widgetSession(): Promise<string> {
  const options = await (await fetch(`${stack.gateway.url}/api/options`)).json();
  expect(options.pay_options).toEqual(["credits", "balance", "inv", "candidate_pays"]);
  expect(options.payment_origins).toEqual([stack.sandbox.url]);
  return options.session;
}

test("a created event can be held through the gateway, and filled, and a hold expires", async () => {
  const event = await stack.createEvent({ courseId: 2, capacity: 3, startDate: "2026-11-24T09:30:00Z" });
  expect(event.start_date).toBe("2026-11-24T09:30:00+00:00");
  expect(event.remaining_slots).toBe(3);
  const later = await stack.createEvent({ courseId: 4 });
  const ahead = Date.parse(later.start_date) - Date.parse(CLOCK_START);
  expect(Math.abs(ahead - 48 * 3600 * 1000)).toBeLessThan(60_000);

  const session = await widgetSession();
  const held = await fetch(`${stack.gateway.url}/api/holds`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hbg-session": session },
    body: JSON.stringify({ event_id: event.id }),
  });
  expect(held.status).toBe(200);
  const seat = await held.json();
  expect(seat.hold.expires_in_seconds).toBe(1800);

  const filled = await stack.fillEvent(event.id);
  expect(filled.remaining_slots).toBe(1);

  const clock = await stack.advanceClock(1801);
  expect(Date.parse(clock.now)).toBeGreaterThanOrEqual(Date.parse(CLOCK_START) + 1801_000);
  const again = await stack.sandboxApi(`/training-events/${event.id}/hold`, { method: "POST" });
  expect(again.status).toBe(200);
  expect((await again.json()).training_event.id).toBe(event.id);

  const refused = await stack.sandboxApi("/bookings", { method: "POST", body: "{}" });
  expect(refused.status).toBe(422);
});
