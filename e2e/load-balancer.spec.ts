// Going live as an agency runs it: two gateway instances behind nginx (the
// project's own `deploy/nginx.conf`), sharing Redis, all started by the test.
// A candidate books in Chromium through nginx, and the instance that granted
// the hold crashes between the hold and the booking: the booking is made
// once, the candidate sees no error, and the instance left counts, in its
// metrics, the booking it made on the other instance's hold.
import { test, expect } from "@playwright/test";
import { startBalancedStack, type BalancedStack } from "./support/balanced";
import { COURSES, LOCATIONS, newEvent, theOneBookingMadeBy } from "./support/data";
import { PRIYA, confirmButton, expectStep, holdSeat, openWidget, toPayment, widget } from "./support/widget";

let stack: BalancedStack;

test.beforeAll(async () => {
  stack = await startBalancedStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

/** One instance's metrics, as Prometheus scrapes them from its admin listener. */
async function metrics(index: number): Promise<string> {
  const answer = await fetch(`${stack.admins[index]}/metrics`);
  expect(answer.status).toBe(200);
  return answer.text();
}

/** The value of the sample `name{labels}` in `text` (0 when there is none). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text
    .split("\n")
    .find((line) => line.startsWith(`${name}{`) && wanted.every((label) => line.includes(label)));
  return line ? Number(line.split(" ").pop()) : 0;
}

test("an instance crashed between the hold and the booking: booked once through nginx, no error, counted by the instance left", async ({
  page,
}) => {
  const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
  const problems: string[] = [];
  page.on("response", (response) => {
    if (response.url().includes("/api/") && response.status() >= 500) problems.push(`${response.status()} ${response.url()}`);
  });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, COURSES.movingAndHandling.name, event);

  const holds = [0, 1].map(async (index) =>
    sample(await metrics(index), "hbg_requests_total", { route: "/api/holds", status: "200" }),
  );
  const granted = await Promise.all(holds);
  expect(granted.reduce((a, b) => a + b), "one hold, granted by one instance").toBe(1);
  const holder = granted.indexOf(1);
  const left = 1 - holder;
  await stack.crash(holder);

  await toPayment(page, PRIYA, "credits");
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(made).toMatchObject({ pay_option: "credits", course: { id: COURSES.movingAndHandling.id } });
  await expect(widget(page).getByRole("alert")).toHaveCount(0);
  expect(problems, "no request of the candidate's failed").toEqual([]);

  const after = await metrics(left);
  expect(sample(after, "hbg_requests_total", { route: "/api/bookings", status: "201" })).toBe(1);
  expect(sample(after, "hbg_bookings_total", { product: "practical", pay_option: "credits" })).toBe(1);
  expect(sample(after, "hbg_requests_total", { route: "/api/holds", status: "200" }), "the hold was the other instance's").toBe(0);
});
