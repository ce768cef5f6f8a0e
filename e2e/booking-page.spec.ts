// The candidate's own booking page, opened from the link the confirmation
// gives: in a new browser context (no session, nothing in storage), with
// axe-core at 320 and 1280 px; a cancel made with the keyboard alone that
// gives the credit back; the certificate once attendance is marked; a
// Virtual BLS booking's Zoom session and kit, overdue when the sandbox says
// so; another date, chosen and confirmed, booked before the old booking is
// cancelled; the provider's own reschedule and cancel (test mode), each
// shown; and a forged or altered link, which shows its message and nothing
// else.
import { test, expect, type Browser, type Page } from "@playwright/test";
import { BLS_DEMO_ACCOUNT, startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, wallet } from "./support/data";
import { stepChecker } from "./support/steps";
import {
  PRIYA,
  confirmButton,
  expectStep,
  holdSeat,
  labelsOf,
  openWidget,
  shownReference,
  toPayment,
  widget,
} from "./support/widget";

const AGENCY_EMAIL = "bookings@carestaff.example";
let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack({
    gatewayArgs: ["--candidate-cancel", "until 24h before", "--agency-contact-email", AGENCY_EMAIL],
  });
});

test.afterAll(async () => {
  await stack?.stop();
});

/** Books a new event of `course` (Moving and Handling unless named) with credits; answers the booking's id and page address. */
async function bookAndKeepLink(
  page: Page,
  course: { id: number; name: string } = COURSES.movingAndHandling,
): Promise<{ id: number; url: string }> {
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "credits");
  await confirmButton(page).click();
  await expectStep(page, "Booking confirmed");
  const id = await shownReference(page);
  await expect(widget(page)).toContainText("Keep this link to see or change your booking");
  const link = widget(page).getByRole("link", { name: /hbg-booking=/ });
  const url = (await link.getAttribute("href"))!;
  expect(url).toMatch(new RegExp(`^${stack.gateway.url}/\\?hbg-booking=pt\\.${id}\\.`));
  return { id, url };
}

/** A page in a browser context of its own: no cookies, no storage, no session. */
async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  return context.newPage();
}

/** The value the booking page lists for `term`. */
function fact(page: Page, term: string) {
  return widget(page).getByRole("term").filter({ hasText: term }).locator("+ dd");
}

test("a booking's link opens its page in a new browser, and a cancel with the keyboard alone gives the credit back", async ({
  page,
  browser,
}, testInfo) => {
  const before = await wallet(stack);
  const { id, url } = await bookAndKeepLink(page);
  const course = COURSES.movingAndHandling.id;
  expect((await wallet(stack)).credits[course]).toBe(before.credits[course] - 1);

  const other = await freshPage(browser);
  const check = stepChecker(other, testInfo);
  for (const width of [320, 1280]) {
    await other.setViewportSize({ width, height: 900 });
    await other.goto(url);
    await expectStep(other, "Your booking");
    await expect(fact(other, "Booking reference")).toHaveText(String(id));
    await expect(fact(other, "Status")).toHaveText("Booked (paid)");
    await expect(widget(other)).toContainText(/You can cancel this booking until \d\d:\d\d on \w+day \d+ \w+ \d{4}\./);
    await expect(widget(other)).toContainText("The course credit used for it goes back to the agency's account.");
    await check("booking page");
  }

  // The keyboard alone: to the cancel button, then confirm.
  const cancel = widget(other).getByRole("button", { name: "Cancel this booking" });
  for (let presses = 0; presses < 30 && !(await cancel.evaluate((b) => b.matches(":focus"))); presses++) {
    await other.keyboard.press("Tab");
  }
  await expect(cancel).toBeFocused();
  await other.keyboard.press("Enter");
  const question = widget(other).getByRole("group", { name: /^Cancel your place on Moving/ });
  await expect(question).toBeVisible();
  await expect(question).toContainText("goes back to the agency's account");
  await expect(widget(other).getByRole("button", { name: "Keep my booking" })).toBeFocused();
  await check("cancel confirmation");
  await other.keyboard.press("Shift+Tab");
  await expect(widget(other).getByRole("button", { name: "Yes, cancel it" })).toBeFocused();
  await other.keyboard.press("Enter");

  await expect(fact(other, "Status")).toHaveText("Cancelled (refunded)");
  await expect(widget(other).getByRole("status").filter({ hasText: "Your booking is cancelled." })).toBeAttached();
  await expect(widget(other).getByRole("button", { name: "Cancel this booking" })).toBeHidden();
  await expect(other.getByRole("heading", { level: 2, name: "Your booking" })).toBeFocused();
  await check("cancelled");
  expect((await wallet(stack)).credits[course]).toBe(before.credits[course]);
  const booked = await (await stack.sandboxApi(`/bookings/${id}`)).json();
  expect(booked).toMatchObject({ booking_status: "cancelled", pay_status: "refunded" });
});

test("once attendance is marked, the certificate downloads from the booking page as a PDF", async ({
  page,
  browser,
}) => {
  const { id, url } = await bookAndKeepLink(page);
  const other = await freshPage(browser);
  await other.goto(url);
  await expectStep(other, "Your booking");
  await expect(widget(other).getByRole("link", { name: "Download your certificate (PDF)" })).toHaveCount(0);

  await stack.advanceClock(3 * 24 * 3600);
  const marked = await fetch(`${stack.sandbox.url}/_sandbox/bookings/${id}/attendance`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ attendance: "attended" }),
  });
  expect(marked.status).toBe(200);
  await other.reload();
  await expect(fact(other, "Status")).toHaveText("Completed (paid)");
  const download = other.waitForEvent("download");
  await widget(other).getByRole("link", { name: "Download your certificate (PDF)" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`certificate-${id}.pdf`);
  const stream = await file.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).subarray(0, 5).toString()).toBe("%PDF-");
});

test("a Virtual BLS booking's page shows its Zoom session and kit, a kit marked overdue as overdue, and the provider's reschedule and cancel", async ({
  page,
  browser,
}) => {
  await page.goto(`${stack.gateway.url}/agency-both.html`);
  await expectStep(page, "Choose the training");
  await page.getByRole("button", { name: /^Virtual Basic Life Support over Zoom/ }).click();
  await page.getByRole("button", { name: /^BLS Annual Update \(Virtual\) £/ }).click();
  await expectStep(page, "Choose a date and time");
  await widget(page)
    .getByRole("button", { name: /^\w+day \d+ \w+ \d{4}, \d\d:\d\d to \d\d:\d\d (GMT|BST)/ })
    .first()
    .click();
  await expectStep(page, "Your details");
  for (const [label, value] of Object.entries({
    "First name": "Owen",
    "Last name": "Hughes",
    "Email address": "owen.hughes@carestaff.example",
    "Address line": "4 Mill Lane",
    "Town or city": "Leeds",
    Postcode: "LS1 4AP",
  })) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("radio", { name: "Use a booking credit" }).check();
  await confirmButton(page).click();
  await expectStep(page, "Booking confirmed");
  const url = (await widget(page).getByRole("link", { name: /hbg-booking=bls\./ }).getAttribute("href"))!;
  expect(url).toContain("/agency-both.html?hbg-booking=bls.");
  const id = Number(await fact(page, "Booking reference").textContent());

  const other = await freshPage(browser);
  await other.goto(url);
  await expectStep(other, "Your booking");
  await expect(fact(other, "Where")).toContainText(/Online, over Zoom\s*https:\/\/zoom\.us\/j\/\d{11}/);
  await expect(fact(other, "Training kit")).toHaveText("Your training kit has not been posted yet.");
  await expect(widget(other)).toContainText(
    `To change or cancel this booking, contact the agency that booked you, at ${AGENCY_EMAIL}.`,
  );
  await expect(widget(other).getByRole("button", { name: "Cancel this booking" })).toBeHidden();

  const overdue = await fetch(`${stack.sandbox.url}/_sandbox/bls/bookings/${id}/status`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ equipment_status: "overdue" }),
  });
  expect(overdue.status).toBe(200);
  await other.reload();
  await expect(fact(other, "Training kit")).toHaveText(
    "Your training kit is overdue: please post it back now. Your certificate is issued once it is returned.",
  );

  // The provider moves the session to another free timeslot, then cancels it (test mode).
  const when = fact(other, "When");
  const first = await when.textContent();
  const booking = (await blsApi(`/bookings/${id}`)) as { course: { id: number }; start_date: string };
  const today = new Date().toISOString().slice(0, 10);
  const later = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
  const slots = (await blsApi(
    `/timeslots?course_id=${booking.course.id}&date_from=${today}&date_to=${later}`,
  )) as { data: { start_date: string }[] };
  const free = slots.data.find((slot) => Date.parse(slot.start_date) !== Date.parse(booking.start_date));
  expect(free, "another free timeslot of the course").toBeTruthy();
  await provider(`/bls/bookings/${id}/reschedule`, { starts_at: free!.start_date });
  await other.reload();
  await expect(when).not.toHaveText(first!);
  await provider(`/bls/bookings/${id}/cancel`, {});
  await other.reload();
  await expect(fact(other, "Status")).toHaveText("Cancelled (refunded)");
});

/** Reads the sandbox's Virtual BLS API (`/bls/api/v1` + `path`) as HB-BLS-DEMO. */
async function blsApi(path: string): Promise<unknown> {
  const base = `${stack.sandbox.url}/bls/api/v1`;
  const login = await fetch(`${base}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(BLS_DEMO_ACCOUNT),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  const answer = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${access_token}`, accept: "application/json" },
  });
  expect(answer.status, await answer.clone().text()).toBe(200);
  return answer.json();
}

test("a forged or altered link shows a clear message and nothing else", async ({ page, browser }) => {
  const { url } = await bookAndKeepLink(page);
  const link = new URL(url).searchParams.get("hbg-booking")!;
  const [, id] = link.split(".");
  const forged = [
    link.replace(`pt.${id}.`, `pt.${Number(id) - 1}.`),
    link.replace("pt.", "bls."),
    `${link.slice(0, -2)}AA`,
    "not-a-link",
  ];
  const other = await freshPage(browser);
  for (const bad of forged) {
    await other.goto(`${stack.gateway.url}/?hbg-booking=${encodeURIComponent(bad)}`);
    await expectStep(other, "Your booking");
    await expect(widget(other).getByRole("alert")).toHaveText(
      /^This booking link is not valid\. Check that it was copied in full, or ask the agency that booked you for a new one\. \(quote reference [0-9a-f]{32}\)$/,
    );
    await expect(widget(other).getByRole("term")).toHaveCount(0);
    await expect(widget(other).getByRole("button")).toHaveCount(0);
  }
});

test("in the iframe mode, the host page's booking link opens the booking's page inside the frame", async ({
  page,
  browser,
}) => {
  const { id, url } = await bookAndKeepLink(page);
  const link = new URL(url).searchParams.get("hbg-booking")!;
  const other = await freshPage(browser);
  await other.goto(`${stack.gateway.url}/agency-iframe.html?hbg-booking=${link}`);
  const frame = other.frameLocator("hbg-booking-frame iframe");
  await expect(frame.getByRole("heading", { level: 2, name: "Your booking" })).toBeVisible();
  await expect(frame.getByRole("term").filter({ hasText: "Booking reference" }).locator("+ dd")).toHaveText(
    String(id),
  );
  await expect(frame.getByRole("button", { name: "Cancel this booking" })).toBeVisible();
});

test("the provider reschedules, then cancels, in test mode: the booking page shows each", async ({
  page,
  browser,
}) => {
  const before = await wallet(stack);
  const { id, url } = await bookAndKeepLink(page);
  const course = COURSES.movingAndHandling;
  const later = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  const other = await freshPage(browser);
  await other.goto(url);
  await expectStep(other, "Your booking");
  const when = fact(other, "When");
  const first = await when.textContent();

  await provider(`/bookings/${id}/reschedule`, { training_event_id: later.id });
  await other.reload();
  await expect(when).not.toHaveText(first!);
  const moved = labelsOf(later);
  await expect(when).toHaveText(`${moved.date}, ${moved.time}`);
  await expect(fact(other, "Status")).toHaveText("Booked (paid)");

  await provider(`/bookings/${id}/cancel`, {});
  await other.reload();
  await expect(fact(other, "Status")).toHaveText("Cancelled (refunded)");
  await expect(widget(other).getByRole("button", { name: "Cancel this booking" })).toBeHidden();
  expect((await wallet(stack)).credits[course.id]).toBe(before.credits[course.id]);
});

test("another date: the new place is booked, then the old one cancelled; one booking remains and the credits are net unchanged", async ({
  page,
  browser,
}, testInfo) => {
  const course = COURSES.cstf;
  const before = await wallet(stack);
  const { id, url } = await bookAndKeepLink(page, course);
  const later = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  const other = await freshPage(browser);
  const check = stepChecker(other, testInfo);
  await other.goto(url);
  await expectStep(other, "Your booking");

  await widget(other).getByRole("button", { name: "Choose another date" }).click();
  const dates = widget(other).getByRole("region", { name: "Choose another date" });
  await expect(other.getByRole("heading", { level: 3, name: "Choose another date" })).toBeFocused();
  const date = dates.getByRole("button", { name: labelsOf(later).choice });
  await expect(date).toBeVisible();
  await check("another date");
  await date.click();
  await expect(date).toBeHidden();
  await widget(other).getByRole("button", { name: "Choose a different date" }).click();
  await expect(other.getByRole("heading", { level: 3, name: "Choose another date" })).toBeFocused();
  await date.click();
  await expect(date).toBeHidden();
  const question = widget(other).getByRole("group", { name: /^Move your place to / });
  await expect(question).toContainText(`Move your place to ${labelsOf(later).date}`);
  await expect(question).toContainText("Your new place is booked first; only then is your place on");
  await expect(question).toContainText("so the agency's credits are unchanged.");
  await expect(widget(other).getByRole("button", { name: "Keep my date" })).toBeFocused();
  await check("move confirmation");
  await widget(other).getByRole("button", { name: "Yes, move it" }).click();

  const moved = labelsOf(later);
  await expect(fact(other, "When")).toHaveText(`${moved.date}, ${moved.time}`);
  await expect(fact(other, "Status")).toHaveText("Booked (paid)");
  await expect(widget(other).getByRole("status").filter({ hasText: "Your booking is moved to the new date." })).toBeAttached();
  await expect(other.getByRole("heading", { level: 2, name: "Your booking" })).toBeFocused();
  const newId = Number(await fact(other, "Booking reference").textContent());
  expect(newId).not.toBe(id);
  const newLink = widget(other).getByRole("link", { name: /hbg-booking=/ });
  await expect(widget(other)).toContainText("Keep this new link to see or change your booking");
  expect(await newLink.getAttribute("href")).toMatch(new RegExp(`\\?hbg-booking=pt\\.${newId}\\.`));
  await check("moved");

  const old = await (await stack.sandboxApi(`/bookings/${id}`)).json();
  expect(old).toMatchObject({ booking_status: "cancelled", pay_status: "refunded" });
  const all = (await (await stack.sandboxApi("/bookings?per_page=100")).json()) as {
    data: { id: number; start_date: string; booking_status: string }[];
  };
  const live = all.data.filter((booking) => [id, newId].includes(booking.id) && booking.booking_status !== "cancelled");
  expect(live.map((booking) => booking.id)).toEqual([newId]);
  expect(live[0].start_date).toBe(later.start_date);
  expect((await wallet(stack)).credits[course.id]).toBe(before.credits[course.id] - 1);

  // The old link now shows the old booking, cancelled.
  await other.goto(url);
  await expect(fact(other, "Status")).toHaveText("Cancelled (refunded)");
  await expect(widget(other).getByRole("button", { name: "Choose another date" })).toBeHidden();
});

/** Asks the sandbox, as the training provider, to change a booking. */
async function provider(path: string, body: unknown): Promise<void> {
  const answer = await fetch(`${stack.sandbox.url}/_sandbox${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(answer.status, await answer.clone().text()).toBe(200);
}
