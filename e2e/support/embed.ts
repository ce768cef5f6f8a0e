// Helpers for the embedding tests: host pages on other origins (served by
// Playwright's routing), recording the widget's events, and a booking made
// the way a candidate makes it.
import { expect, type FrameLocator, type Locator, type Page } from "@playwright/test";

/** Every event the widget dispatches, in the README's order. */
export const EVENT_NAMES = [
  "hbg:ready",
  "hbg:course-chosen",
  "hbg:location-chosen",
  "hbg:event-chosen",
  "hbg:hold-created",
  "hbg:hold-expiring",
  "hbg:hold-expired",
  "hbg:submit-started",
  "hbg:payment-redirect",
  "hbg:booking-created",
  "hbg:booking-confirmed",
  "hbg:error",
];

/** An agency's site: an origin of its own, nothing like the gateway's. */
export const AGENCY = "https://agency.example";

/** An event as the host page heard it. */
export interface HeardEvent {
  /** The `id` of the element it reached `window` from (after retargeting). */
  target: string;
  type: string;
  detail: Record<string, unknown>;
  bubbles: boolean;
  composed: boolean;
}

/**
 * Answers `url` with `html` (and any `headers`), as the agency's server
 * would; `url` is a glob such as `${AGENCY}/booking.html`.
 */
export async function serveHostPage(
  page: Page,
  url: string,
  html: string,
  headers: Record<string, string> = {},
): Promise<void> {
  await page.route(url, (route) =>
    route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", headers, body: html }),
  );
}

/**
 * Listens, from before any page script runs, for every documented event on
 * `window` in the bubbling phase: only events that bubble and cross the
 * shadow boundary arrive there.
 */
export async function recordEvents(page: Page): Promise<void> {
  await page.addInitScript((names: string[]) => {
    const heard: unknown[] = [];
    Object.defineProperty(window, "__hbgEvents", { value: heard });
    for (const name of names) {
      window.addEventListener(name, (event) => {
        const custom = event as CustomEvent;
        heard.push({
          target: (custom.target as Element | null)?.id ?? "",
          type: custom.type,
          detail: JSON.parse(JSON.stringify(custom.detail ?? null)),
          bubbles: custom.bubbles,
          composed: custom.composed,
        });
      });
    }
  }, EVENT_NAMES);
}

/** The events heard so far, optionally only those from one element. */
export async function heardEvents(page: Page, target?: string): Promise<HeardEvent[]> {
  const heard = (await page.evaluate(() => (window as unknown as { __hbgEvents: unknown[] }).__hbgEvents)) as HeardEvent[];
  return target === undefined ? heard : heard.filter((event) => event.target === target);
}

/** What a booking needs beyond the defaults. */
export interface Booking {
  /** The course to choose, when the element does not preselect one. */
  course?: string;
  /** The location choice's name, when the element does not preselect one. */
  location?: string | RegExp;
  /** Whether the widget already holds a seat and shows the details step. */
  fromDetails?: boolean;
  /** The pay option's label. */
  payOption?: string;
  /** Whether to wait for the confirmation (not when the page goes to a payment page). */
  untilConfirmed?: boolean;
  firstName?: string;
  lastName?: string;
  email?: string;
}

/** A candidate's booking through one widget, from its current step to the confirmation. */
export async function book(widget: Locator | FrameLocator, booking: Booking = {}): Promise<void> {
  const heading = widget.getByRole("heading", { level: 2 });
  if (!booking.fromDetails) {
    if (booking.course) {
      await expect(heading).toHaveText("Choose a course");
      await widget.getByRole("button", { name: booking.course }).click();
    }
    if (booking.location) {
      await expect(heading).toHaveText("Choose a location");
      await widget.getByRole("button", { name: booking.location }).click();
    }
    await expect(heading).toHaveText("Choose a date and time");
    await widget.getByRole("button", { name: /seats? left/ }).first().click();
  }
  await expect(heading).toHaveText("Your details");
  const first = widget.getByLabel("First name", { exact: true });
  const last = widget.getByLabel("Last name", { exact: true });
  const email = widget.getByLabel("Email address", { exact: true });
  if (booking.firstName !== undefined || (await first.inputValue()) === "") {
    await first.fill(booking.firstName ?? "Priya");
  }
  if (booking.lastName !== undefined || (await last.inputValue()) === "") {
    await last.fill(booking.lastName ?? "Patel");
  }
  if (booking.email !== undefined || (await email.inputValue()) === "") {
    await email.fill(booking.email ?? "priya.patel@carestaff.example");
  }
  await widget.getByRole("button", { name: "Continue" }).click();
  await expect(heading).toHaveText("How the booking is paid for");
  await widget.getByLabel(booking.payOption ?? "Invoice the agency").check();
  await widget.getByRole("button", { name: "Confirm booking" }).click();
  if (booking.untilConfirmed ?? true) {
    await expect(heading).toHaveText("Booking confirmed", { timeout: 15_000 });
  }
}

/**
 * A booking through one widget from its first step to the confirmation
 * (CSTF, any location, by invoice), calling `check` at each step it shows:
 * the course, the location, the dates, the details (empty, then with their
 * errors), the pay options and the confirmation.
 */
export async function bookCheckingEachStep(
  widget: Locator | FrameLocator,
  check: (name: string) => Promise<void>,
): Promise<void> {
  const heading = widget.getByRole("heading", { level: 2 });
  await expect(heading).toHaveText("Choose a course");
  await expect(widget.getByRole("button", { name: /^CSTF Mandatory Practical Skills/ })).toBeVisible();
  await check("choose a course");
  await widget.getByRole("button", { name: /^CSTF Mandatory Practical Skills/ }).click();
  await expect(heading).toHaveText("Choose a location");
  await expect(widget.getByRole("button", { name: /^Any location/ })).toBeVisible();
  await check("choose a location");
  await widget.getByRole("button", { name: /^Any location/ }).click();
  await expect(heading).toHaveText("Choose a date and time");
  await expect(widget.getByRole("button", { name: /seats? left/ }).first()).toBeVisible();
  await check("choose a date and time");
  await widget.getByRole("button", { name: /seats? left/ }).first().click();
  await expect(heading).toHaveText("Your details");
  await check("your details");
  await widget.getByRole("button", { name: "Continue" }).click();
  await expect(widget.getByRole("heading", { name: "There is a problem" })).toBeVisible();
  await check("your details with errors");
  await widget.getByLabel("First name", { exact: true }).fill("Priya");
  await widget.getByLabel("Last name", { exact: true }).fill("Patel");
  const email = widget.getByLabel("Email address", { exact: true });
  await email.fill("priya.patel@carestaff.example");
  // Leaving the field clears its error (a field in error is checked again on
  // blur) before the click, so that the form does not move under the
  // pointer between pressing and releasing it.
  await email.press("Tab");
  await expect(email).not.toHaveAttribute("aria-invalid");
  await widget.getByRole("button", { name: "Continue" }).click();
  await expect(heading).toHaveText("How the booking is paid for");
  await check("how the booking is paid for");
  await widget.getByLabel("Invoice the agency").check();
  await widget.getByRole("button", { name: "Confirm booking" }).click();
  await expect(heading).toHaveText("Booking confirmed", { timeout: 15_000 });
  await check("booking confirmed");
}
