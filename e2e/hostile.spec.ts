// Markup in strings from the API is shown as text, never run: course and
// location names, a candidate's name stored by the sandbox and read back,
// and error messages.
import { test, expect, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, booking, newEvent, theOneBookingMadeBy } from "./support/data";
import {
  FIELD_LABELS,
  PRIYA,
  chooseCourse,
  chooseLocation,
  confirmButton,
  errorSummary,
  expectStep,
  findEvent,
  holdSeat,
  literal,
  openWidget,
  startingWith,
  toPayment,
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

/** Each string sets `window.hbgInjected` if it is ever parsed as HTML and run. */
const HOSTILE_COURSE = `<img src=x onerror="window.hbgInjected='course'">Moving & Handling <b>Practical</b>`;
const HOSTILE_LOCATION = `<img src=x onerror="window.hbgInjected='location'">Leeds`;
const HOSTILE_ADDRESS = `<script>window.hbgInjected='address'</script>Unit 4 & "Aire" Street`;

/** Watches the page: answers what injected markup ran and the dialogs it opened. */
function watchForInjection(page: Page): () => Promise<{ ran: unknown; dialogs: string[] }> {
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return async () => ({
    ran: await page.evaluate(() => (window as unknown as { hbgInjected?: unknown }).hbgInjected),
    dialogs,
  });
}

/** The widget holds no element made from API markup. */
async function expectNoInjectedElements(page: Page): Promise<void> {
  await expect(widget(page).locator("img, script, b")).toHaveCount(0);
}

test("course and location names with markup are shown as text", async ({ page }) => {
  const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
  const injected = watchForInjection(page);
  // The gateway's answers rewritten on the way to the widget: the sandbox
  // has no way to name a course or venue.
  await page.route(`${stack.gateway.url}/api/courses`, async (route) => {
    const response = await route.fetch();
    const courses = (await response.json()) as { id: number; name: string }[];
    const json = courses.map((c) => (c.id === COURSES.movingAndHandling.id ? { ...c, name: HOSTILE_COURSE } : c));
    await route.fulfill({ response, json });
  });
  await page.route(`${stack.gateway.url}/api/training-events?*`, async (route) => {
    const response = await route.fetch();
    const events = (await response.json()) as {
      course: { name: string };
      location: { id: number; name: string; address: string };
    }[];
    const json = events.map((e) => ({
      ...e,
      course: { ...e.course, name: HOSTILE_COURSE },
      location:
        e.location.id === LOCATIONS.leeds.id ? { ...e.location, name: HOSTILE_LOCATION, address: HOSTILE_ADDRESS } : e.location,
    }));
    await route.fulfill({ response, json });
  });

  // Without the early step, whose courses do not pass through this route
  // (its escaping is the gateway's, tested there).
  await openWidget(page, `${stack.gateway.url}/?hbg-early=off`);
  await expect(page.getByRole("button", { name: `${HOSTILE_COURSE} £95 per place` })).toBeVisible();
  await expectNoInjectedElements(page);

  await chooseCourse(page, HOSTILE_COURSE);
  await expect(widget(page).getByText(HOSTILE_COURSE, { exact: true })).toBeVisible();
  const venue = page.getByRole("button", { name: startingWith(`${HOSTILE_LOCATION} ${HOSTILE_ADDRESS} `) });
  await expect(venue).toBeVisible();
  await expectNoInjectedElements(page);

  await chooseLocation(page, HOSTILE_LOCATION);
  await expect(page.getByRole("combobox", { name: "Location" }).getByRole("option", { name: HOSTILE_LOCATION })).toBeAttached();
  const choice = await findEvent(page, { ...event, location: { ...event.location, name: HOSTILE_LOCATION } });
  await expectNoInjectedElements(page);

  await choice.click();
  await expectStep(page, "Your details");
  const summary = widget(page).getByRole("definition");
  await expect(summary.filter({ hasText: HOSTILE_COURSE })).toHaveText(HOSTILE_COURSE);
  await expect(summary.filter({ hasText: HOSTILE_LOCATION })).toContainText(HOSTILE_ADDRESS);
  await expectNoInjectedElements(page);
  expect(await injected()).toEqual({ ran: undefined, dialogs: [] });
});

test("a candidate's name with markup is stored, shown on the checkout page and read back as text", async ({ page }) => {
  const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
  const injected = watchForInjection(page);
  const candidate: Candidate = {
    ...PRIYA,
    firstName: `<img src=x onerror="window.hbgInjected='first'">`,
    lastName: `Patel</dd><script>window.hbgInjected='last'</script>`,
  };
  const name = `${candidate.firstName} ${candidate.lastName}`;

  await openWidget(page, stack.gateway.url);
  await holdSeat(page, COURSES.movingAndHandling.name, event);
  await toPayment(page, candidate, "candidate_pays");
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await page.waitForURL(`${stack.sandbox.url}/checkout/**`);
  });
  expect(made.candidate.name).toBe(name);
  await expect(page.getByText(name, { exact: true })).toBeVisible();
  await expect(page.locator("img, script")).toHaveCount(0);

  await page.getByRole("button", { name: "Pay £95" }).click();
  await expectStep(page, "Booking confirmed");
  await expect(widget(page).getByRole("definition").filter({ hasText: name })).toHaveText(name);
  await expectNoInjectedElements(page);
  expect(await injected()).toEqual({ ran: undefined, dialogs: [] });
  expect(await booking(stack, made.id)).toMatchObject({ booking_status: "booked", candidate: { name } });
});

test("an error message with markup is shown as text at its field", async ({ page }) => {
  const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
  const injected = watchForInjection(page);
  const message = `<img src=x onerror="window.hbgInjected='error'">Use your <b>work</b> email`;
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, COURSES.movingAndHandling.name, event);
  await toPayment(page, PRIYA, "inv");
  await page.route(
    `${stack.gateway.url}/api/bookings`,
    (route) => route.fulfill({ status: 422, json: { message, errors: { email: [message] } } }),
    { times: 1 },
  );

  await confirmButton(page).click();
  await expectStep(page, "Your details");
  await expect(errorSummary(page).getByRole("link", { name: message })).toBeVisible();
  await expect(page.getByLabel(FIELD_LABELS.email, { exact: true })).toHaveAccessibleDescription(
    new RegExp(`Error: ${literal(message)}$`),
  );
  await expectNoInjectedElements(page);
  expect(await injected()).toEqual({ ran: undefined, dialogs: [] });
});
