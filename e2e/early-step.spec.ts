// The early step: the first step, rendered by the gateway, shown and usable
// while the WebAssembly module is still loading. Each test holds the module
// back (its response waits behind a gate) to look at the early step alone,
// then lets it through and sees the module take the step over: the choice
// made early carried out, focus kept, nothing announced twice.
import { test, expect, type Locator, type Page } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import { COURSES } from "./support/data";
import { gate, stepChecker, type Gate } from "./support/steps";
import { expectStep, startingWith, stepHeading, widget } from "./support/widget";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

/** Holds the module's response until the gate opens. */
async function holdModule(page: Page): Promise<Gate> {
  const held = gate();
  await page.route("**/*_bg.wasm", async (route) => {
    const response = await route.fetch();
    await held.wait();
    await route.fulfill({ response });
  });
  return held;
}

/** Whether the module has taken the step over (no early markup is left). */
function earlyStepShown(page: Page) {
  return widget(page).locator("[data-hbg-early]");
}

function isFocused(target: Locator): Promise<boolean> {
  return target.evaluate((element) => (element.getRootNode() as Document | ShadowRoot).activeElement === element);
}

function courseButton(page: Page, name: string) {
  return page.getByRole("button", { name: startingWith(name + " £") });
}

test("the early step shows the courses before the module and works with the keyboard", async ({ page }) => {
  const module = await holdModule(page);
  await page.goto(stack.gateway.url);
  await expectStep(page, "Choose a course");
  await expect(earlyStepShown(page)).toHaveCount(1);
  await expect(widget(page).getByText("Step 1 of 6")).toBeVisible();
  const course = courseButton(page, COURSES.fireSafety.name);
  await expect(course).toBeVisible();
  for (let presses = 0; presses < 20 && !(await isFocused(course)); presses++) {
    await page.keyboard.press("Tab");
  }
  await expect(course).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(course).toHaveAttribute("aria-pressed", "true");
  module.open();
  await expectStep(page, "Choose a location");
  await expect(widget(page).getByText(COURSES.fireSafety.name)).toBeVisible();
  await expect(stepHeading(page, "Choose a location")).toBeFocused();
});

test("the early step passes axe-core, and the module takes it over keeping focus", async ({ page }, testInfo) => {
  const check = stepChecker(page, testInfo);
  const module = await holdModule(page);
  await page.goto(stack.gateway.url);
  const course = courseButton(page, COURSES.pmva.name);
  await expect(course).toBeVisible();
  await check("early step");
  await course.focus();
  module.open();
  await expect(earlyStepShown(page)).toHaveCount(0);
  await expect(course).toBeFocused();
  await expect(course).not.toHaveAttribute("aria-pressed");
  await check("course step after the module took it over");
});

test("the early step is announced once: no live region until the module's own", async ({ page }) => {
  const module = await holdModule(page);
  await page.goto(stack.gateway.url);
  await expect(courseButton(page, COURSES.cstf.name)).toBeVisible();
  await expect(widget(page).locator("[aria-live]")).toHaveCount(0);
  await expect(page.getByRole("heading", { level: 2 })).toHaveCount(1);
  module.open();
  await expect(earlyStepShown(page)).toHaveCount(0);
  await expect(widget(page).locator("[aria-live]")).toHaveCount(1);
  await expect(widget(page).locator("[aria-live]")).toHaveText("");
  await expect(page.getByRole("heading", { level: 2 })).toHaveCount(1);
  // Focus stays where the candidate left it: nothing moved it to the heading.
  await expect(stepHeading(page, "Choose a course")).not.toBeFocused();
});

test("a course clicked before the module is ready is chosen once it is", async ({ page }) => {
  const asked: string[] = [];
  page.on("request", (request) => asked.push(new URL(request.url()).pathname));
  const module = await holdModule(page);
  await page.goto(stack.gateway.url);
  await courseButton(page, COURSES.movingAndHandling.name).click();
  await expect(earlyStepShown(page)).toHaveCount(1);
  module.open();
  await expectStep(page, "Choose a location");
  await expect(widget(page).getByText(COURSES.movingAndHandling.name)).toBeVisible();
  // The module took the early step's courses rather than reading them again.
  expect(asked.filter((path) => path === "/api/first-step")).toHaveLength(1);
  expect(asked).not.toContain("/api/courses");
});

test("with ?hbg-early=off the early step is not asked for", async ({ page }) => {
  const asked: string[] = [];
  page.on("request", (request) => asked.push(new URL(request.url()).pathname));
  await page.goto(`${stack.gateway.url}/?hbg-early=off`);
  await expectStep(page, "Choose a course");
  await expect(courseButton(page, COURSES.cstf.name)).toBeVisible();
  expect(asked).not.toContain("/api/first-step");
  expect(asked).toContain("/api/courses");
});
