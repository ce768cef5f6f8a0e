// The widget's numbers in Chromium, for `cargo xtask bench`:
// * requests to the gateway's /api from page load to a confirmed booking,
//   and while switching month, location and view (which must make none);
// * from navigation to the first interactive step (`hbg:interactive`), and
//   from choosing a location to the calendar being shown
//   (`hbg:location-chosen` to `hbg:calendar-shown`), each the median of
//   repeated first visits (a new browser context, so an empty cache).
// The results are merged into the JSON at `$HBG_BENCH_RESULTS`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { test, expect, type Page } from "@playwright/test";
import { startStack, type Stack } from "../support/stack";
import { COURSES, LOCATIONS, newEvent } from "../support/data";
import {
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  expectStep,
  findEvent,
  recordApiCalls,
  shownMonth,
  toPayment,
} from "../support/widget";

/** Measured runs of each timing; one more before them warms the servers. */
const RUNS = 7;

/** What `xtask bench` reads. */
interface Results {
  requests_to_booking: { api: number; all: number; calls: string[] };
  requests_while_switching: { api: number; calls: string[] };
  interactive_ms: number[];
  calendar_ms: number[];
}

const results: Partial<Results> = {};
let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
  const path = process.env.HBG_BENCH_RESULTS;
  if (!path) throw new Error("HBG_BENCH_RESULTS is not set: run the benchmarks with `cargo xtask bench`");
  // Merged with what the other benchmark files wrote there.
  const merged = existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : {};
  writeFileSync(path, JSON.stringify({ ...merged, ...results }, null, 2));
});

test("requests from page load to a confirmed booking, and while switching", async ({ page }) => {
  const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
  const all: string[] = [];
  page.on("request", (request) => all.push(request.url()));
  const calls = recordApiCalls(page);
  await page.goto(stack.gateway.url);
  await chooseCourse(page, COURSES.movingAndHandling.name);
  await chooseLocation(page, LOCATIONS.leeds.name);
  await (await findEvent(page, event)).click();
  await expectStep(page, "Your details");
  await toPayment(page, PRIYA, "credits");
  await confirmButton(page).click();
  await expectStep(page, "Booking confirmed");
  results.requests_to_booking = {
    api: calls.length,
    all: all.length,
    calls: calls.map((call) => `${call.method} ${call.path}`),
  };

  await page.getByRole("button", { name: "Book another place" }).click();
  await chooseCourse(page, COURSES.movingAndHandling.name);
  await chooseLocation(page, LOCATIONS.leeds.name);
  const before = calls.length;
  await switchAround(page);
  const switching = calls.slice(before);
  results.requests_while_switching = {
    api: switching.length,
    calls: switching.map((call) => `${call.method} ${call.path}`),
  };
});

/** Months forward and back, other locations, the list and the grid, another venue. */
async function switchAround(page: Page): Promise<void> {
  const first = await shownMonth(page).textContent();
  for (let month = 0; month < 3; month++) {
    await page.getByRole("button", { name: /^Next month, / }).click();
  }
  for (let month = 0; month < 3; month++) {
    await page.getByRole("button", { name: /^Previous month, / }).click();
  }
  await expect(shownMonth(page)).toHaveText(first ?? "");
  const location = page.getByRole("combobox", { name: "Location" });
  for (const name of [LOCATIONS.manchester.name, LOCATIONS.birmingham.name, "Any location"]) {
    await location.selectOption({ label: name });
  }
  await page.getByRole("button", { name: "List", exact: true }).click();
  await page.getByRole("button", { name: "Calendar", exact: true }).click();
  await page.getByRole("button", { name: "Back" }).click();
  await chooseLocation(page, LOCATIONS.manchester.name);
  await expect(page.getByRole("grid")).toBeVisible();
}

/** A performance mark's start time, once the widget has recorded it. */
async function mark(page: Page, name: string): Promise<number> {
  await expect
    .poll(() => page.evaluate((mark) => performance.getEntriesByName(mark, "mark").length, name))
    .toBe(1);
  return page.evaluate((mark) => performance.getEntriesByName(mark, "mark")[0].startTime, name);
}

test("time to the first interactive step, and from choosing a location to the calendar", async ({ browser }) => {
  const interactive: number[] = [];
  const calendar: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(stack.gateway.url);
    const shown = await mark(page, "hbg:interactive");
    await chooseCourse(page, COURSES.movingAndHandling.name);
    await chooseLocation(page, LOCATIONS.leeds.name);
    const chosen = await mark(page, "hbg:location-chosen");
    const drawn = await mark(page, "hbg:calendar-shown");
    await context.close();
    if (run === 0) continue;
    interactive.push(shown);
    calendar.push(drawn - chosen);
  }
  results.interactive_ms = interactive;
  results.calendar_ms = calendar;
});
