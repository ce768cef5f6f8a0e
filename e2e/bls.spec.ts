// Virtual BLS through the widget, on the demo agency page that offers both
// products: a booking with each pay option (credits, balance, the agency's
// invoice, and the candidate paying on the PayPal stand-in and coming back),
// axe-core at every step at 320 and 1280 px (with a screenshot of each step
// kept under target/screens), and a booking with the keyboard alone. Each
// test has a stack of its own, so it finds the seeded account and free
// times as the seed left them, whichever tests ran before it.
import { mkdirSync, readFileSync } from "node:fs";
import { test, expect, type Locator, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { stepChecker } from "./support/steps";
import { recordApiCalls, confirmButton, expectStep, stepHeading, widget } from "./support/widget";
import {
  blsBookings,
  blsTransactionsSince,
  blsWallet,
  theOneBlsBookingMadeBy,
  type BlsBooking,
} from "./support/bls";

let stack: Stack;

test.beforeEach(async () => {
  stack = await startStack();
});

test.afterEach(async () => {
  await stack?.stop();
});

const COURSE = "BLS Annual Update (Virtual)";
const SCREENS = "target/screens";

/** What the kit form asks for, by label. */
const OWEN = {
  "First name": "Owen",
  "Last name": "Hughes",
  "Email address": "owen.hughes@carestaff.example",
  "Phone number (optional)": "07700 900456",
  "Address line": "4 Mill Lane",
  "Town or city": "Leeds",
  Postcode: "ls1 4ap",
};

/** A free time's button: "Tuesday 8 December 2026, 09:00 to 10:00 GMT, 1 hour, £55.00". */
function timeButtons(page: Page): Locator {
  return widget(page).getByRole("button", { name: /^\w+day \d+ \w+ \d{4}, \d\d:\d\d to \d\d:\d\d (GMT|BST)/ });
}

/** The seeded course's id and price. */
const COURSE_ID = 41;
const COURSE_PRICE = 55;

/** The booking the confirmation names, as the sandbox has it. */
async function shownBooking(page: Page): Promise<BlsBooking> {
  const reference = Number(await widget(page).getByRole("definition").first().textContent());
  const made = (await blsBookings(stack)).find((booking) => booking.id === reference);
  expect(made, `booking ${reference} in the sandbox`).toBeDefined();
  return made!;
}

/** An instant as iCalendar writes it in UTC: `20261208T090000Z`. */
function icsStamp(timestamp: string): string {
  return new Date(timestamp).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** An instant's UK wall-clock time and zone: "09:00 GMT". */
function ukTime(instant: Date): string {
  const clock = instant.toLocaleTimeString("en-GB", { timeZone: "Europe/London", hour: "2-digit", minute: "2-digit" });
  const zone = instant.toLocaleTimeString("en-GB", { timeZone: "Europe/London", timeZoneName: "short" }).split(" ").pop();
  return `${clock} ${zone === "GMT" ? "GMT" : "BST"}`;
}

/** An iCalendar UTC date-time (`20261208T090000Z`) as a Date. */
function fromIcs(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) throw new Error(`not a UTC date-time: ${stamp}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/**
 * Downloads the confirmation's calendar file and checks it describes
 * `made` at the time the candidate chose (`chosen`: the time button's name).
 */
async function expectCalendarFile(page: Page, made: BlsBooking, chosen: string): Promise<void> {
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Add to calendar" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`training-booking-${made.id}.ics`);
  // Unfolded (RFC 5545 folds long lines with CRLF and a space).
  const ics = readFileSync((await file.path())!, "utf8").replace(/\r\n /g, "");
  const lines = ics.split("\r\n");
  const field = (name: string) => {
    const found = lines.filter((line) => line.startsWith(`${name}:`));
    expect(found, `one ${name} line`).toHaveLength(1);
    return found[0].slice(name.length + 1);
  };
  expect(lines[0]).toBe("BEGIN:VCALENDAR");
  expect(lines.filter((line) => line === "BEGIN:VEVENT")).toHaveLength(1);
  expect(field("UID")).toBe(`training-booking-${made.id}@hbg-booking`);
  expect(field("SUMMARY")).toBe(COURSE);
  expect(field("LOCATION")).toBe(made.virtual.zoom_link);
  // In UTC, the booking's own start and end...
  expect(field("DTSTART")).toBe(icsStamp(made.start_date));
  expect(field("DTEND")).toBe(icsStamp(made.end_date));
  const start = fromIcs(field("DTSTART"));
  const end = fromIcs(field("DTEND"));
  expect(end.getTime() - start.getTime()).toBe(60 * 60 * 1000);
  // ...which in the UK are the time the candidate chose.
  expect(chosen).toContain(`${ukTime(start).split(" ")[0]} to ${ukTime(end)}`);
  const description = field("DESCRIPTION");
  expect(description).toContain(`meeting ID ${made.virtual.zoom_id}`);
  expect(description).toContain(`password ${made.virtual.zoom_password}`);
  expect(description).toContain(`Booking reference ${made.id}.`);
}

/** Checks the kit address went with the booking, as typed (postcode tidied). */
function expectKitSent(calls: ReturnType<typeof recordApiCalls>): void {
  const sent = calls.filter((call) => call.method === "POST" && call.path === "/bookings");
  expect(sent, "booking requests").toHaveLength(1);
  expect(JSON.parse(sent[0].request.postData() ?? "{}").kit).toEqual({
    address: OWEN["Address line"],
    city: OWEN["Town or city"],
    postcode: "LS1 4AP",
  });
}

/** The agency page, Virtual BLS chosen, the course chosen: the timeslot calendar. */
async function toCalendar(page: Page): Promise<void> {
  await page.goto(`${stack.gateway.url}/agency-both.html`);
  await expectStep(page, "Choose the training");
  await page.getByRole("button", { name: /^Virtual Basic Life Support over Zoom/ }).click();
  await expectStep(page, "Choose a course");
  await page.getByRole("button", { name: new RegExp(`^${COURSE.replace(/[()]/g, "\\$&")} £`) }).click();
  await expectStep(page, "Choose a date and time");
  await expect(page.getByRole("grid")).toBeVisible();
}

/** Holds the `nth` free time of the day shown; answers its button's name. */
async function holdTime(page: Page, nth: number): Promise<string> {
  const time = timeButtons(page).nth(nth);
  const name = (await time.getAttribute("aria-label")) ?? (await time.textContent()) ?? "";
  await time.click();
  await expectStep(page, "Your details");
  return name;
}

async function fillKitForm(page: Page): Promise<void> {
  for (const [label, value] of Object.entries(OWEN)) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
}

const PAY_LABELS = {
  credits: "Use a booking credit",
  balance: "Pay from the account balance",
  invoice: "Invoice the agency",
} as const;

for (const [upstream, label] of Object.entries(PAY_LABELS)) {
  test(`a Virtual BLS booking paid with ${upstream}: the Zoom session is confirmed and goes into the calendar file`, async ({
    page,
  }) => {
    const calls = recordApiCalls(page);
    const before = await blsWallet(stack);
    let chosen = "";
    const made = await theOneBlsBookingMadeBy(stack, async () => {
      await toCalendar(page);
      chosen = await holdTime(page, 0);
      await fillKitForm(page);
      await page.getByRole("button", { name: "Continue" }).click();
      await expectStep(page, "How the booking is paid for");
      await page.getByRole("radio", { name: label }).check();
      await confirmButton(page).click();
      await expectStep(page, "Booking confirmed");
    });
    const shown = widget(page);
    await expect(shown).toContainText(/Online, over Zoom\s*https:\/\/zoom\.us\/j\/\d{11}/);
    await expect(shown).toContainText(/Meeting ID \d{3} \d{4} \d{4}/);
    await expect(shown).toContainText(/Password \w{6}/);
    expect((await shownBooking(page)).id).toBe(made.id);
    expect(made).toMatchObject({
      pay_option: upstream,
      booking_status: "booked",
      pay_status: "completed",
      course: { id: COURSE_ID },
      candidate: { name: "Owen Hughes", email: OWEN["Email address"], phone: "+447700900456" },
    });
    await expect(shown).toContainText(made.virtual.zoom_link);
    expectKitSent(calls);

    // Paid for once, from the right pocket.
    const after = await blsWallet(stack);
    const written = await blsTransactionsSince(stack, before);
    if (upstream === "credits") {
      expect(after.credits[COURSE_ID]).toBe(before.credits[COURSE_ID] - 1);
      expect(after.balance).toBe(before.balance);
      expect(written).toEqual([
        expect.objectContaining({ type: "debit", credits: 1, course_id: COURSE_ID, booking_id: made.id }),
      ]);
    } else if (upstream === "balance") {
      expect(after.credits).toEqual(before.credits);
      expect(after.balance).toBeCloseTo(before.balance - COURSE_PRICE, 2);
      expect(written).toEqual([expect.objectContaining({ type: "debit", amount: COURSE_PRICE, booking_id: made.id })]);
    } else {
      expect(after.credits).toEqual(before.credits);
      expect(after.balance).toBe(before.balance);
      expect(written).toEqual([]);
    }

    await expectCalendarFile(page, made, chosen);
  });
}

test("candidate pays: the PayPal stand-in takes the payment and sends the candidate back to the confirmed booking", async ({
  page,
}) => {
  const calls = recordApiCalls(page);
  const before = await blsWallet(stack);
  const made = await theOneBlsBookingMadeBy(stack, async () => {
    await toCalendar(page);
    await holdTime(page, 0);
    await fillKitForm(page);
    await page.getByRole("button", { name: "Continue" }).click();
    await expectStep(page, "How the booking is paid for");
    await page.getByRole("radio", { name: "Pay by card" }).check();
    await expect(widget(page).getByText(/secure PayPal page/)).toBeVisible();
    await confirmButton(page).click();
    await page.waitForURL(/\/paypal\/checkoutnow\?token=/);
  });
  expect(made).toMatchObject({ pay_option: "candidate_pays", booking_status: "pending", pay_status: "pending" });
  expectKitSent(calls);
  expect(new URL(page.url()).origin).toBe(stack.sandbox.url);
  const booked = (await blsBookings(stack)).map((booking) => booking.id);
  await page.getByRole("button", { name: /^Pay £55\.00 with PayPal|^Pay £55 with PayPal/ }).click();
  await page.waitForURL(`${stack.gateway.url}/agency-both.html`);
  await expectStep(page, "Booking confirmed");
  await expect(widget(page)).toContainText(/https:\/\/zoom\.us\/j\/\d{11}/);
  const paid = await shownBooking(page);
  expect(paid.id).toBe(made.id);
  expect(paid).toMatchObject({ pay_option: "candidate_pays", booking_status: "booked", pay_status: "completed" });
  // Still one booking, and the agency's wallet untouched: the candidate paid.
  expect((await blsBookings(stack)).map((booking) => booking.id)).toEqual(booked);
  const after = await blsWallet(stack);
  expect(after.credits).toEqual(before.credits);
  expect(after.balance).toBe(before.balance);
  expect(await blsTransactionsSince(stack, before)).toEqual([]);
});

for (const width of [320, 1280]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 800 } });

    test("every Virtual BLS step passes axe-core and is kept as a screenshot", async ({ page }, testInfo) => {
      mkdirSync(SCREENS, { recursive: true });
      const axe = stepChecker(page, testInfo);
      let taken = 0;
      const check = async (name: string) => {
        await axe(name);
        taken += 1;
        const file = `${SCREENS}/bls-${width}px-${String(taken).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`;
        await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
      };
      await page.goto(`${stack.gateway.url}/agency-both.html`);
      await expectStep(page, "Choose the training");
      await check("choose the training");
      await page.getByRole("button", { name: /^Virtual Basic Life Support over Zoom/ }).click();
      await expectStep(page, "Choose a course");
      await check("choose a course");
      await page.getByRole("button", { name: /^BLS Annual Update \(Virtual\) £/ }).click();
      await expectStep(page, "Choose a date and time");
      await expect(timeButtons(page).first()).toBeVisible();
      await check("timeslot calendar");
      await timeButtons(page).first().click();
      await expectStep(page, "Your details");
      await expect(widget(page).getByText(/^Seat held for (30|29) minutes$/)).toBeVisible();
      await check("details and kit address");
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(page.getByRole("heading", { level: 3, name: "There is a problem" })).toBeVisible();
      await check("details with errors");
      await fillKitForm(page);
      await page.getByRole("button", { name: "Continue" }).click();
      await expectStep(page, "How the booking is paid for");
      await page.getByRole("radio", { name: "Invoice the agency" }).check();
      await check("pay option");
      await confirmButton(page).click();
      await expectStep(page, "Booking confirmed");
      await check("confirmation with zoom");
    });
  });
}

/** Presses Tab until `target` has focus. */
async function tabTo(page: Page, target: Locator, limit = 40): Promise<void> {
  for (let presses = 0; presses < limit; presses++) {
    const focused = await target.evaluate(
      (element) => (element.getRootNode() as Document | ShadowRoot).activeElement === element,
    );
    if (focused) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${target}`);
}

test("a candidate books Virtual BLS with the keyboard alone", async ({ page }) => {
  await page.goto(`${stack.gateway.url}/agency-both.html`);
  await expectStep(page, "Choose the training");
  await tabTo(page, page.getByRole("button", { name: /^Virtual Basic Life Support over Zoom/ }));
  await page.keyboard.press("Enter");
  await expect(stepHeading(page, "Choose a course")).toBeFocused();
  await tabTo(page, page.getByRole("button", { name: /^BLS Annual Update \(Virtual\) £/ }));
  await page.keyboard.press("Enter");
  await expect(stepHeading(page, "Choose a date and time")).toBeFocused();
  // Into the grid (one day is in the tab order), a week on with the arrow
  // keys and back, then Enter on the day and Tab to its first time.
  const inTabOrder = page.getByRole("grid").getByRole("button").and(page.locator("[tabindex='0']"));
  await tabTo(page, inTabOrder);
  const first = await inTabOrder.getAttribute("data-date");
  await page.keyboard.press("ArrowDown");
  await expect(inTabOrder).not.toHaveAttribute("data-date", first!);
  await page.keyboard.press("ArrowUp");
  await expect(inTabOrder).toHaveAttribute("data-date", first!);
  await page.keyboard.press("Enter");
  await tabTo(page, timeButtons(page).last());
  await page.keyboard.press("Enter");
  await expect(stepHeading(page, "Your details")).toBeFocused();
  for (const [label, value] of Object.entries(OWEN)) {
    await tabTo(page, page.getByLabel(label, { exact: true }));
    await page.keyboard.type(value);
  }
  await page.keyboard.press("Enter");
  await expect(stepHeading(page, "How the booking is paid for")).toBeFocused();
  await tabTo(page, page.getByRole("radio", { name: "Use a booking credit" }));
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await expect(page.getByRole("radio", { name: "Invoice the agency" })).toBeChecked();
  await tabTo(page, confirmButton(page));
  const made = await theOneBlsBookingMadeBy(stack, async () => {
    await page.keyboard.press("Enter");
    await expect(stepHeading(page, "Booking confirmed")).toBeFocused();
  });
  expect((await shownBooking(page)).id).toBe(made.id);
  expect(made).toMatchObject({ pay_option: "invoice", candidate: { name: "Owen Hughes" } });
});
