// Errors in what the candidate entered: the GOV.UK pattern. The widget's
// own checks, and the server's 422 answers shown at their fields, with the
// error summary taking focus and nothing typed lost.
import { test, expect } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES, LOCATIONS, newEvent, spendCredits, theOneBookingMadeBy, wallet } from "./support/data";
import {
  confirmButton,
  errorSummary,
  expectDetails,
  expectStep,
  FIELD_LABELS,
  fillDetails,
  holdSeat,
  literal,
  openWidget,
  PRIYA,
  toPayment,
  widget,
} from "./support/widget";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

test("the widget's own checks: the summary takes focus and links to each field", async ({ page }) => {
  const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, COURSES.movingAndHandling.name, event);

  await page.getByRole("button", { name: "Continue" }).click();
  await expect(errorSummary(page)).toBeFocused();
  await expect(errorSummary(page).getByRole("link")).toHaveText([
    "Enter your first name",
    "Enter your last name",
    "Enter an email address",
  ]);
  const email = page.getByLabel(FIELD_LABELS.email, { exact: true });
  await expect(email).toHaveAttribute("aria-invalid", "true");
  await expect(email).toHaveAccessibleDescription(/Error: Enter an email address$/);
  await expect(page.getByLabel(FIELD_LABELS.phone, { exact: true })).not.toHaveAttribute("aria-invalid", "true");

  await errorSummary(page).getByRole("link", { name: "Enter an email address" }).click();
  await expect(email).toBeFocused();
  await fillDetails(page, { ...PRIYA, email: "priya@", phone: "12" });
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(errorSummary(page)).toBeFocused();
  await expect(errorSummary(page).getByRole("link")).toHaveText([
    "Enter an email address in the correct format, like name@example.com",
    "Enter a UK phone number, like 07700 900123, or an international number starting with +",
  ]);
  await expect(page.getByLabel(FIELD_LABELS.firstName, { exact: true })).toHaveValue(PRIYA.firstName);

  await fillDetails(page, PRIYA);
  await page.getByRole("button", { name: "Continue" }).click();
  await expectStep(page, "How the booking is paid for");
});

test("the server's field errors show at their fields, the summary takes focus, nothing typed is lost", async ({ page }) => {
  const event = await newEvent(stack, { courseId: COURSES.movingAndHandling.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, COURSES.movingAndHandling.name, event);
  await toPayment(page, PRIYA, "inv");

  // The sandbox disagrees with the widget about two fields: the request
  // reaches it through the gateway with those fields changed.
  await page.route(
    "**/api/bookings",
    async (route) => {
      const body = route.request().postDataJSON();
      await route.continue({ postData: JSON.stringify({ ...body, email: "not-an-email", phone: "+12345" }) });
    },
    { times: 1 },
  );
  await confirmButton(page).click();
  await expectStep(page, "Your details");
  await expect(errorSummary(page)).toBeFocused();
  const links = errorSummary(page).getByRole("link");
  await expect(links).toHaveCount(2);
  await expect(links.nth(0)).toHaveText(/email/i);
  await expect(links.nth(1)).toHaveText(/phone/i);
  for (const [label, link] of [
    [FIELD_LABELS.email, links.nth(0)],
    [FIELD_LABELS.phone, links.nth(1)],
  ] as const) {
    const input = page.getByLabel(label, { exact: true });
    await expect(input).toHaveAttribute("aria-invalid", "true");
    await expect(input).toHaveAccessibleDescription(new RegExp(`Error: ${await link.textContent()}$`));
  }
  await expectDetails(page, PRIYA);

  const made = await theOneBookingMadeBy(stack, async () => {
    await page.getByRole("button", { name: "Continue" }).click();
    await expectStep(page, "How the booking is paid for");
    await expect(page.getByRole("radio", { name: "Invoice the agency" })).toBeChecked();
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(made.candidate).toMatchObject({ email: PRIYA.email, phone: "+447700900123" });
});

test("a pay option the account cannot use for the seat is shown with its reason and cannot be chosen", async ({
  page,
}) => {
  const event = await newEvent(stack, { courseId: COURSES.fireSafety.id, locationId: LOCATIONS.leeds.id });
  const before = await wallet(stack);
  expect(before.credits[COURSES.fireSafety.id] ?? 0, "the demo account has no Fire Safety credits").toBe(0);
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, COURSES.fireSafety.name, event);
  await toPayment(page, PRIYA, "balance");
  const credit = page.getByRole("radio", { name: "Use a booking credit" });
  await expect(credit).toBeDisabled();
  await expect(widget(page)).toContainText("No credits left for this course");
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(made).toMatchObject({ pay_option: "balance", course: { id: COURSES.fireSafety.id } });
  expect((await wallet(stack)).balance).toBeCloseTo(before.balance - 55, 2);
});

test("a credit spent elsewhere after the seat was held is refused at the pay options, and another option books", async ({
  page,
}) => {
  const course = COURSES.cstf;
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "credits");
  // The agency's last credits for the course go to other bookings meanwhile.
  await spendCredits(stack, course.id);
  const before = await wallet(stack);

  await confirmButton(page).click();
  await expectStep(page, "How the booking is paid for");
  await expect(errorSummary(page)).toBeFocused();
  await expect(errorSummary(page).getByRole("link")).toHaveText([`You have no booking credits left for ${course.name}.`]);
  const options = page.getByRole("group", { name: "How the booking is paid for" });
  await expect(options).toHaveAccessibleDescription(
    new RegExp(`Error: You have no booking credits left for ${literal(course.name)}\\.$`),
  );

  await page.getByRole("radio", { name: "Pay from the account balance" }).check();
  await expect(options).not.toHaveAccessibleDescription(/Error/);
  const made = await theOneBookingMadeBy(stack, async () => {
    await confirmButton(page).click();
    await expectStep(page, "Booking confirmed");
  });
  expect(made).toMatchObject({ pay_option: "balance", course: { id: course.id } });
  expect((await wallet(stack)).balance).toBeLessThan(before.balance);
});

// The error summary's link to the pay option error takes focus to the first
// choice, as GOV.UK's radios do.
test("the summary's link to a pay option error moves focus to the pay options", async ({ page }) => {
  const course = COURSES.basicLifeSupport;
  const event = await newEvent(stack, { courseId: course.id, locationId: LOCATIONS.leeds.id });
  await openWidget(page, stack.gateway.url);
  await holdSeat(page, course.name, event);
  await toPayment(page, PRIYA, "credits");
  await spendCredits(stack, course.id);
  await confirmButton(page).click();
  await expect(errorSummary(page)).toBeFocused();

  await errorSummary(page).getByRole("link").click();
  await expect(page.getByRole("radio", { name: "Use a booking credit" })).toBeFocused();
});
