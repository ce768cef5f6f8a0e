// A complete booking with each pay option, checked in the sandbox's
// database afterwards: one booking, the right status, the right accounting.
import { test, expect, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import {
  COURSES,
  LOCATIONS,
  booking,
  newEvent,
  theOneBookingMadeBy,
  transactionsSince,
  wallet,
} from "./support/data";
import {
  PRIYA,
  confirmButton,
  expectStep,
  holdSeat,
  openWidget,
  shownReference,
  toPayment,
  widget,
  type PayOption,
} from "./support/widget";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

/** Books a new event of `course` with `pay` up to the step after confirming. */
async function bookWith(
  page: Page,
  course: { id: number; name: string },
  pay: PayOption,
  afterConfirm: string,
): Promise<number> {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, pay);
  await confirmButton(page).click();
  await expectStep(page, afterConfirm);
  return shownReference(page);
}

/** The "Status" the confirmation shows, e.g. "booked (payment completed)". */
function shownStatus(page: Page) {
  return widget(page).getByRole("term").filter({ hasText: "Status" }).locator("+ dd");
}

test("credits: the booking uses one credit of the course and nothing else", async ({ page }) => {
  const before = await wallet(stack);
  const hostEvents: { type: string; detail: unknown }[] = [];
  await page.exposeFunction("recordHostEvent", (type: string, detail: unknown) => hostEvents.push({ type, detail }));
  await page.addInitScript(() => {
    for (const type of ["hbg:hold-created", "hbg:booking-created", "hbg:booking-confirmed"]) {
      document.addEventListener(type, (event) =>
        (window as unknown as { recordHostEvent: (t: string, d: unknown) => void }).recordHostEvent(
          type,
          (event as CustomEvent).detail,
        ),
      );
    }
  });

  let reference = 0;
  const made = await theOneBookingMadeBy(stack, async () => {
    reference = await bookWith(page, COURSES.movingAndHandling, "credits", "Booking confirmed");
  });

  expect(made.id).toBe(reference);
  await expect(shownStatus(page)).toHaveText("booked (payment completed)");
  await expect(widget(page).getByText("Priya Patel", { exact: true })).toBeVisible();
  expect(made).toMatchObject({
    booking_status: "booked",
    pay_status: "completed",
    pay_option: "credits",
    course: { id: COURSES.movingAndHandling.id },
    candidate: {
      name: "Priya Patel",
      email: PRIYA.email,
      phone: "+447700900123",
      job_role: "Healthcare Assistant",
    },
  });
  const after = await wallet(stack);
  expect(after.credits[COURSES.movingAndHandling.id]).toBe(before.credits[COURSES.movingAndHandling.id] - 1);
  expect(after.balance).toBe(before.balance);
  const written = await transactionsSince(stack, before);
  expect(written).toEqual([
    expect.objectContaining({ type: "debit", credits: 1, course_id: COURSES.movingAndHandling.id, booking_id: made.id }),
  ]);

  // The host page hears what happened, with ids and statuses only.
  await expect.poll(() => hostEvents.map((e) => e.type)).toContain("hbg:booking-created");
  expect(hostEvents.find((e) => e.type === "hbg:booking-created")?.detail).toEqual({
    product: "practical",
    booking_id: made.id,
    booking_status: "booked",
    pay_status: "completed",
  });
  expect(JSON.stringify(hostEvents)).not.toContain("priya");
});

test("balance: the booking takes the event's price from the account balance", async ({ page }) => {
  const before = await wallet(stack);
  let reference = 0;
  const made = await theOneBookingMadeBy(stack, async () => {
    reference = await bookWith(page, COURSES.movingAndHandling, "balance", "Booking confirmed");
  });

  expect(made.id).toBe(reference);
  expect(made).toMatchObject({ booking_status: "booked", pay_status: "completed", pay_option: "balance" });
  await expect(shownStatus(page)).toHaveText("booked (payment completed)");
  const after = await wallet(stack);
  expect(after.balance).toBeCloseTo(before.balance - 95, 2);
  expect(after.credits).toEqual(before.credits);
  expect(await transactionsSince(stack, before)).toEqual([
    expect.objectContaining({ type: "debit", amount: 95, booking_id: made.id, balance_after: after.balance }),
  ]);
});

test("invoice: the booking is made with no wallet movement, and another can follow", async ({ page }) => {
  const before = await wallet(stack);
  let reference = 0;
  const made = await theOneBookingMadeBy(stack, async () => {
    reference = await bookWith(page, COURSES.basicLifeSupport, "inv", "Booking confirmed");
  });

  expect(made.id).toBe(reference);
  expect(made).toMatchObject({ booking_status: "booked", pay_status: "completed", pay_option: "inv" });
  expect(await wallet(stack)).toEqual(before);

  await page.getByRole("button", { name: "Book another place" }).click();
  await expectStep(page, "Choose a course");
  await expect(page.getByRole("button", { name: /^Basic Life Support Practical £65/ })).toBeVisible();
});

test("card: the candidate pays on the checkout page and comes back to the paid booking", async ({ page }) => {
  const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
  const before = await wallet(stack);
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, COURSES.movingAndHandling.name, event);
  await toPayment(page, PRIYA, "candidate_pays");
  await expect(widget(page).getByText(/you will pay by card on a secure Stripe page/)).toBeVisible();

  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await page.waitForURL(`${stack.sandbox.url}/checkout/**`);
  });
  expect(made).toMatchObject({ booking_status: "pending", pay_status: "pending", pay_option: "candidate_pays" });
  expect(new URL(page.url()).searchParams.get("return_url")).toBe(`${stack.gateway.url}/`);
  await expect(page.getByRole("heading", { level: 1, name: "Checkout" })).toBeVisible();
  await expect(page.getByText("Priya Patel", { exact: true })).toBeVisible();

  await page.getByRole("button", { name: "Pay £95" }).click();
  await page.waitForURL(`${stack.gateway.url}/`);
  await expectStep(page, "Booking confirmed");
  expect(await shownReference(page)).toBe(made.id);
  await expect(shownStatus(page)).toHaveText("booked (payment completed)");
  expect(await booking(stack, made.id)).toMatchObject({ booking_status: "booked", pay_status: "completed" });
  expect(await wallet(stack)).toEqual(before);
});

test("card, when the checkout never sends the candidate back: told the confirmation comes by email, and coming back by hand shows the paid booking", async ({
  page,
}) => {
  await stack.setProfile({ return_url: "ignored" });
  try {
    const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
    await openWidget(page, stack.gateway.url);
    await holdSeat(page, COURSES.movingAndHandling.name, event);
    await toPayment(page, PRIYA, "candidate_pays");
    await expect(
      widget(page).getByText(/Your confirmation is emailed to you once you have paid, whether or not that page brings you back here/),
    ).toBeVisible();
    const made = await theOneBookingMadeBy(stack, async () => {
      await confirmButton(page).click();
      await page.waitForURL(`${stack.sandbox.url}/checkout/**`);
    });
    await page.getByRole("button", { name: "Pay £95" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Payment received" })).toBeVisible();
    expect(new URL(page.url()).origin).toBe(stack.sandbox.url);

    await page.goto(stack.gateway.url);
    await expectStep(page, "Booking confirmed");
    expect(await shownReference(page)).toBe(made.id);
    await expect(shownStatus(page)).toHaveText("booked (payment completed)");
  } finally {
    await stack.setProfile({ return_url: "honoured" });
  }
});

test("card: coming back without paying offers the payment again, and sees it once paid", async ({ page }) => {
  const event = await newEvent(stack, { courseId: COURSES.basicLifeSupport.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, COURSES.basicLifeSupport.name, event);
  await toPayment(page, PRIYA, "candidate_pays");
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await page.waitForURL(`${stack.sandbox.url}/checkout/**`);
  });
  const checkout = page.url();

  await page.goBack();
  await expectStep(page, "Complete the payment");
  expect(await shownReference(page)).toBe(made.id);
  await expect(shownStatus(page)).toHaveText("pending (payment pending)");
  await page.getByRole("button", { name: "Pay by card" }).click();
  await page.waitForURL(checkout);
  await expect(page.getByRole("button", { name: "Pay £65" })).toBeVisible();
  await page.goBack();
  await expectStep(page, "Complete the payment");

  // Paid elsewhere (another tab, say): "Check the payment" reads it again.
  const paid = await fetch(checkout, { method: "POST", redirect: "manual" });
  expect(paid.status).toBe(303);
  await page.getByRole("button", { name: "Check the payment" }).click();
  await expectStep(page, "Booking confirmed");
  await expect(shownStatus(page)).toHaveText("booked (payment completed)");
  expect(await booking(stack, made.id)).toMatchObject({ booking_status: "booked", pay_status: "completed" });
});

test("review course: the booking stays pending until the provider approves it", async ({ page }) => {
  const before = await wallet(stack);
  let reference = 0;
  const made = await theOneBookingMadeBy(stack, async () => {
    reference = await bookWith(page, COURSES.pmva, "balance", "Booking received: pending review");
  });

  expect(made.id).toBe(reference);
  expect(made).toMatchObject({ booking_status: "pending", pay_status: "completed", pay_option: "balance" });
  await expect(shownStatus(page)).toHaveText("pending (payment completed)");
  await expect(widget(page).getByRole("status")).toHaveText(/reviews bookings for this course/);
  expect((await wallet(stack)).balance).toBeCloseTo(before.balance - 145, 2);

  const review = await fetch(`${stack.sandbox.url}/_sandbox/bookings/${made.id}/review`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ approve: true }),
  });
  expect(review.status).toBe(200);
  expect(await booking(stack, made.id)).toMatchObject({ booking_status: "booked" });
});
