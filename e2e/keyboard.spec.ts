// A booking from the first step to the last with the keyboard alone: Tab
// between controls, Enter and Space to press, arrow keys in the date grid
// and between the pay options. Focus moves to each step's heading and is
// always visible.
import { test, expect, type Locator, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, theOneBookingMadeBy } from "./support/data";
import {
  FIELD_LABELS,
  PRIYA,
  confirmButton,
  eventButton,
  chooseCourse,
  chooseLocation,
  labelsOf,
  shownMonth,
  startingWith,
  stepHeading,
  widget,
  type Candidate,
} from "./support/widget";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

/** Presses Tab until `target` has focus; fails after `limit` presses. */
async function tabTo(page: Page, target: Locator, limit = 40): Promise<void> {
  for (let presses = 0; presses < limit; presses++) {
    if (await isFocused(target)) {
      await expectVisibleFocus(target);
      return;
    }
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${target}`);
}

function isFocused(target: Locator): Promise<boolean> {
  return target.evaluate((element) => (element.getRootNode() as Document | ShadowRoot).activeElement === element);
}

/** The focused control shows a focus outline. */
async function expectVisibleFocus(target: Locator): Promise<void> {
  const outline = await target.evaluate((element) => {
    const style = getComputedStyle(element);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  expect(outline.style, "focus outline").not.toBe("none");
  expect(outline.width, "focus outline width").toBeGreaterThanOrEqual(2);
}

/** Each step's heading takes focus when the step is shown. */
async function expectStepFocused(page: Page, name: string): Promise<void> {
  await expect(stepHeading(page, name)).toBeFocused();
}

const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

/** A day button's name: "Tuesday 24 November 2026, 1 event, 12 seats". */
const DAY_NAME = /^\w+ (\d+) (\w+) (\d{4}),/;

/** The date a day button's name starts with, as UTC midnight in milliseconds. */
function dateOfDayName(name: string): number {
  const match = DAY_NAME.exec(name);
  if (!match) throw new Error(`not a day's name: ${name}`);
  return Date.UTC(+match[3], MONTHS.indexOf(match[2]), +match[1]);
}

/** The grid's day button that has focus. */
/** The one day button of the grid that is in the tab order. */
function dayInTabOrder(page: Page): Locator {
  return page.getByRole("grid").getByRole("button").and(page.locator("[tabindex='0']"));
}

function focusedDayName(page: Page): Promise<string> {
  return widget(page).evaluate((host) => host.shadowRoot?.activeElement?.getAttribute("aria-label") ?? "");
}

async function typeInto(page: Page, label: string, text: string | undefined): Promise<void> {
  await tabTo(page, page.getByLabel(label, { exact: true }));
  if (text) await page.keyboard.type(text);
}

test("a candidate books from the first step to the last with the keyboard alone", async ({ page }) => {
  const course = COURSES.movingAndHandling;
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  const labels = labelsOf(event);

  await page.goto(stack.gateway.url);
  await tabTo(page, page.getByRole("button", { name: startingWith(`${course.name} £`) }));
  await page.keyboard.press("Enter");
  await expectStepFocused(page, "Choose a location");

  await tabTo(page, page.getByRole("button", { name: startingWith(`${LOCATIONS.leeds.name} `) }));
  await page.keyboard.press("Enter");
  await expectStepFocused(page, "Choose a date and time");

  // The event's month with the "Next month" button, into the grid (one day
  // is in the tab order), then by arrow keys to the event's day: down a
  // week at a time, right a day at a time.
  while ((await shownMonth(page).textContent()) !== labels.month) {
    await tabTo(page, page.getByRole("button", { name: /^Next month, / }));
    await page.keyboard.press("Enter");
  }
  await tabTo(page, dayInTabOrder(page));
  const target = dateOfDayName(`${labels.date},`);
  for (let presses = 0; presses < 40; presses++) {
    const focused = await focusedDayName(page);
    const days = (target - dateOfDayName(focused)) / 86_400_000;
    expect(days, "the event's day is ahead of the grid's first day").toBeGreaterThanOrEqual(0);
    if (days === 0) break;
    await page.keyboard.press(days >= 7 ? "ArrowDown" : "ArrowRight");
    await expect
      .poll(async () => {
        const now = await focusedDayName(page);
        return now !== focused && DAY_NAME.test(now);
      }, { message: "focus moves to another day" })
      .toBe(true);
  }
  expect(await focusedDayName(page)).toMatch(startingWith(`${labels.date},`));
  await page.keyboard.press("Enter");
  const chosen = eventButton(page, event);
  await tabTo(page, chosen);
  await page.keyboard.press("Enter");
  await expectStepFocused(page, "Your details");

  const candidate: Candidate = { ...PRIYA };
  for (const [field, label] of Object.entries(FIELD_LABELS) as [keyof Candidate, string][]) {
    await typeInto(page, label, candidate[field]);
  }
  await page.keyboard.press("Enter");
  await expectStepFocused(page, "How the booking is paid for");

  await tabTo(page, page.getByRole("radio", { name: "Use a booking credit" }));
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await expect(page.getByRole("radio", { name: "Invoice the agency" })).toBeChecked();

  const made = await theOneBookingMadeBy(stack, async () => {
    await tabTo(page, confirmButton(page));
    await page.keyboard.press("Enter");
    await expectStepFocused(page, "Booking confirmed");
  });
  expect(made).toMatchObject({
    pay_option: "inv",
    start_date: event.start_date,
    candidate: { name: "Priya Patel", email: PRIYA.email, phone: "+447700900123", job_role: PRIYA.jobRole },
  });
});

// Arrow keys and Page Down that leave the shown month carry focus to the
// same day in the new month (WCAG 2.1.1, 2.4.3).
test("the arrow keys carry focus into the next month of the date grid", async ({ page }) => {
  await page.goto(stack.gateway.url);
  await chooseCourse(page, COURSES.movingAndHandling.name);
  await chooseLocation(page, LOCATIONS.leeds.name);
  const month = await shownMonth(page).textContent();
  await tabTo(page, dayInTabOrder(page));

  await page.keyboard.press("PageDown");
  await expect(shownMonth(page)).not.toHaveText(month ?? "");
  await expect.poll(() => focusedDayName(page), { message: "a day of the new month has focus" }).toMatch(DAY_NAME);
  const focused = await focusedDayName(page);
  await page.keyboard.press("ArrowRight");
  await expect.poll(() => focusedDayName(page)).not.toBe(focused);
});
