// Driving the widget as a candidate would: by role and accessible name.
// The widget renders in an open shadow root, which Playwright's role and
// text locators pierce.
import { expect, type Locator, type Page, type Request } from "@playwright/test";
import type { SandboxEvent } from "./stack";

/** The `<hbg-booking>` element. */
export function widget(page: Page): Locator {
  return page.locator("hbg-booking");
}

/** A step's heading (every step has one `h2`). */
export function stepHeading(page: Page, name: string): Locator {
  return page.getByRole("heading", { level: 2, name, exact: true });
}

/** Waits until the widget shows the step with this heading. */
export async function expectStep(page: Page, name: string): Promise<void> {
  await expect(stepHeading(page, name)).toBeVisible();
}

/**
 * The hold banner of a hold just granted: "Seat held for 30 minutes" for
 * its first second, then 29.
 */
export function freshHold(page: Page): Locator {
  return widget(page).getByText(/^Seat held for (30|29) minutes$/);
}

/** The error summary ("There is a problem"), an `h3` inside the step. */
export function errorSummary(page: Page): Locator {
  return page.getByRole("heading", { level: 3, name: "There is a problem" }).locator("..");
}

/** Opens the demo page and waits for the course step. */
export async function openWidget(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expectStep(page, "Choose a course");
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

/** What the widget calls an event: its venue-local date, times and month. */
export interface EventLabels {
  /** "Tuesday 24 November 2026". */
  date: string;
  /** "10:10 to 17:10 GMT". */
  time: string;
  /** "November 2026". */
  month: string;
  /** The start of the event button's name: "Tuesday 24 November 2026, 10:10 to 17:10 GMT, Leeds". */
  choice: string;
}

function parseLocal(timestamp: string): { year: number; month: number; day: number; clock: string; zone: string } {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}):\d{2}(\+00:00|\+01:00)$/.exec(timestamp);
  if (!match) throw new Error(`not a UK venue time: ${timestamp}`);
  const [, year, month, day, clock, offset] = match;
  return { year: +year, month: +month, day: +day, clock, zone: offset === "+00:00" ? "GMT" : "BST" };
}

/** The labels the widget shows for a sandbox event (venue-local). */
export function labelsOf(event: SandboxEvent): EventLabels {
  const start = parseLocal(event.start_date);
  const end = parseLocal(event.end_date);
  const weekday = WEEKDAYS[new Date(Date.UTC(start.year, start.month - 1, start.day)).getUTCDay()];
  const date = `${weekday} ${start.day} ${MONTHS[start.month - 1]} ${start.year}`;
  const time =
    start.zone === end.zone
      ? `${start.clock} to ${end.clock} ${start.zone}`
      : `${start.clock} ${start.zone} to ${end.clock} ${end.zone}`;
  return {
    date,
    time,
    month: `${MONTHS[start.month - 1]} ${start.year}`,
    choice: `${date}, ${time}, ${event.location.name}`,
  };
}

/** Escapes text for use inside a regular expression. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A regular expression matching accessible names that start with `text`. */
export function startingWith(text: string): RegExp {
  return new RegExp(`^${literal(text)}`);
}

/** The month the calendar shows ("November 2026"). */
export function shownMonth(page: Page): Locator {
  return widget(page).getByText(new RegExp(`^(${MONTHS.join("|")}) \\d{4}$`));
}

/** Moves the calendar forward to `month` with the "Next month" button. */
export async function showMonth(page: Page, month: string): Promise<void> {
  for (let step = 0; step < 12; step++) {
    const shown = await shownMonth(page).textContent();
    if (shown === month) return;
    await page.getByRole("button", { name: /^Next month, / }).click();
    await expect(shownMonth(page)).not.toHaveText(shown ?? "");
  }
  throw new Error(`the calendar never showed ${month}`);
}

/** The button that chooses `event` (in the day's agenda or the list). */
export function eventButton(page: Page, event: SandboxEvent): Locator {
  return page.getByRole("button", { name: startingWith(labelsOf(event).choice + ",") });
}

/** The grid's button for a day ("Tuesday 24 November 2026, 2 events, 14 seats"). */
export function dayButton(page: Page, date: string): Locator {
  return page.getByRole("button", { name: new RegExp(`^${literal(date)}, (\\d+ events?|no events|past)`) });
}

/**
 * Shows `event` in the calendar (its month; in the grid view, its day) so
 * that its button can be chosen.
 */
export async function findEvent(page: Page, event: SandboxEvent): Promise<Locator> {
  const labels = labelsOf(event);
  await expectStep(page, "Choose a date and time");
  await showMonth(page, labels.month);
  if (await page.getByRole("grid").isVisible()) await dayButton(page, labels.date).click();
  const button = eventButton(page, event);
  await expect(button).toBeVisible();
  return button;
}

/** Course, location and event chosen: the seat is held and the details step shown. */
export async function holdSeat(page: Page, course: string, event: SandboxEvent): Promise<void> {
  await chooseCourse(page, course);
  await chooseLocation(page, event.location.name);
  await (await findEvent(page, event)).click();
  await expectStep(page, "Your details");
}

/** Chooses a course by name. */
export async function chooseCourse(page: Page, course: string): Promise<void> {
  await page.getByRole("button", { name: startingWith(course + " £") }).click();
  await expectStep(page, "Choose a location");
}

/** Chooses a venue by name, or "Any location". */
export async function chooseLocation(page: Page, location: string): Promise<void> {
  await page.getByRole("button", { name: startingWith(location + " ") }).click();
  await expectStep(page, "Choose a date and time");
}

/** A candidate's details as typed into the form. */
export interface Candidate {
  firstName: string;
  lastName: string;
  email: string;
  phone?: string;
  jobRole?: string;
}

/** The form's labels, by candidate field. */
export const FIELD_LABELS = {
  firstName: "First name",
  lastName: "Last name",
  email: "Email address",
  phone: "Phone number (optional)",
  jobRole: "Job role (optional)",
} as const;

/** Types the candidate's details into the form. */
export async function fillDetails(page: Page, candidate: Candidate): Promise<void> {
  for (const [field, label] of Object.entries(FIELD_LABELS) as [keyof Candidate, string][]) {
    await page.getByLabel(label, { exact: true }).fill(candidate[field] ?? "");
  }
}

/** Checks that the form still holds every value of `candidate`. */
export async function expectDetails(page: Page, candidate: Candidate): Promise<void> {
  for (const [field, label] of Object.entries(FIELD_LABELS) as [keyof Candidate, string][]) {
    await expect(page.getByLabel(label, { exact: true })).toHaveValue(candidate[field] ?? "");
  }
}

/** The pay options' radio labels. */
export const PAY_OPTIONS = {
  credits: "Use a booking credit",
  balance: "Pay from the account balance",
  inv: "Invoice the agency",
  candidate_pays: "Pay by card",
} as const;

export type PayOption = keyof typeof PAY_OPTIONS;

/** Details typed, "Continue", the pay option chosen: ready to confirm. */
export async function toPayment(page: Page, candidate: Candidate, pay: PayOption): Promise<void> {
  await fillDetails(page, candidate);
  await page.getByRole("button", { name: "Continue" }).click();
  await expectStep(page, "How the booking is paid for");
  await page.getByRole("radio", { name: PAY_OPTIONS[pay] }).check();
}

/** The "Confirm booking" button. */
export function confirmButton(page: Page): Locator {
  return page.getByRole("button", { name: "Confirm booking" });
}

/** The booking reference the confirmation shows. */
export async function shownReference(page: Page): Promise<number> {
  const reference = widget(page).getByRole("definition").first();
  await expect(page.getByRole("term").first()).toHaveText("Booking reference");
  return Number(await reference.textContent());
}

/** A candidate for tests that do not care who books. */
export const PRIYA: Candidate = {
  firstName: "Priya",
  lastName: "Patel",
  email: "priya.patel@carestaff.example",
  phone: "07700 900123",
  jobRole: "Healthcare Assistant",
};

/** A call the widget made to the gateway's `/api`. */
export interface ApiCall {
  method: string;
  /** Path and query below `/api`, e.g. `/training-events?course_id=2&`. */
  path: string;
  request: Request;
}

/** Records every request the page makes to the gateway's `/api`. */
export function recordApiCalls(page: Page): ApiCall[] {
  const calls: ApiCall[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/api/")) {
      calls.push({ method: request.method(), path: url.pathname.slice(4) + url.search, request });
    }
  });
  return calls;
}

/**
 * Waits until the page has drawn two frames from now: what a microtask, a
 * task queued now or a re-render would change has been laid out by then.
 */
export async function afterNextFrames(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
}
