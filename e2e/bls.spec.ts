// Virtual BLS through the widget, on the demo agency page that offers both
// products: a booking with each pay option (credits, balance, the agency's
// invoice, and the candidate paying on the PayPal stand-in and coming back),
// axe-core at every step at 320 and 1280 px (with a screenshot of each step
// kept under target/screens), and a booking with the keyboard alone.
import { mkdirSync } from "node:fs";
import { test, expect, type Locator, type Page } from "@playwright/test";
import { startStack, BLS_DEMO_ACCOUNT, type Stack } from "./support/stack";
import { stepChecker } from "./support/steps";
import { confirmButton, expectStep, stepHeading, widget } from "./support/widget";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
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

/** The Virtual BLS account's bookings, newest first, straight from the sandbox. */
async function blsBookings(): Promise<Array<Record<string, any>>> {
  const token = await fetch(`${stack.sandbox.url}/bls/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(BLS_DEMO_ACCOUNT),
  }).then((response) => response.json());
  const list = await fetch(`${stack.sandbox.url}/bls/api/v1/bookings?per_page=100`, {
    headers: { authorization: `Bearer ${token.access_token}`, accept: "application/json" },
  }).then((response) => response.json());
  return list.data;
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
    await toCalendar(page);
    const index = Object.keys(PAY_LABELS).indexOf(upstream);
    await holdTime(page, index);
    await fillKitForm(page);
    await page.getByRole("button", { name: "Continue" }).click();
    await expectStep(page, "How the booking is paid for");
    await page.getByRole("radio", { name: label }).check();
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
    const shown = widget(page);
    await expect(shown).toContainText(/Online, over Zoom\s*https:\/\/zoom\.us\/j\/\d{11}/);
    await expect(shown).toContainText(/Meeting ID \d{3} \d{4} \d{4}/);
    await expect(shown).toContainText(/Password \w{6}/);
    const reference = Number(await shown.getByRole("definition").first().textContent());
    const made = (await blsBookings()).find((booking) => booking.id === reference)!;
    expect(made).toMatchObject({
      pay_option: upstream,
      booking_status: "booked",
      candidate: { name: "Owen Hughes", email: OWEN["Email address"], phone: "+447700900456" },
    });
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Add to calendar" }).click();
    const file = await download;
    const path = await file.path();
    const ics = (await import("node:fs")).readFileSync(path!, "utf8").replace(/\r\n /g, "");
    expect(ics).toContain(`LOCATION:${made.virtual.zoom_link}\r\n`);
  });
}

test("candidate pays: the PayPal stand-in takes the payment and sends the candidate back to the confirmed booking", async ({
  page,
}) => {
  await toCalendar(page);
  await holdTime(page, 3);
  await fillKitForm(page);
  await page.getByRole("button", { name: "Continue" }).click();
  await expectStep(page, "How the booking is paid for");
  await page.getByRole("radio", { name: "Pay by card" }).check();
  await expect(widget(page).getByText(/secure PayPal page/)).toBeVisible();
  await confirmButton(page).click();
  await page.waitForURL(/\/paypal\/checkoutnow\?token=/);
  expect(new URL(page.url()).origin).toBe(stack.sandbox.url);
  await page.getByRole("button", { name: /^Pay £55\.00 with PayPal|^Pay £55 with PayPal/ }).click();
  await page.waitForURL(`${stack.gateway.url}/agency-both.html`);
  await expectStep(page, "Booking confirmed");
  await expect(widget(page)).toContainText(/https:\/\/zoom\.us\/j\/\d{11}/);
  const reference = Number(await widget(page).getByRole("definition").first().textContent());
  const made = (await blsBookings()).find((booking) => booking.id === reference)!;
  expect(made).toMatchObject({ pay_option: "candidate_pays", booking_status: "booked", pay_status: "completed" });
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
      // The day's last free time: earlier tests in this file booked the
      // first ones.
      await timeButtons(page).last().click();
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
  await page.keyboard.press("Enter");
  await expect(stepHeading(page, "Booking confirmed")).toBeFocused();
  const reference = Number(await widget(page).getByRole("definition").first().textContent());
  const made = (await blsBookings()).find((booking) => booking.id === reference)!;
  expect(made).toMatchObject({ pay_option: "invoice", candidate: { name: "Owen Hughes" } });
});
