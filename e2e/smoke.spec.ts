import { test, expect } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack();
});

test.afterAll(async () => {
  await stack?.stop();
});

test("the demo page shows the widget's first step", async ({ page }) => {
  await page.goto(stack.gateway.url + "/");
  await expect(page.getByRole("heading", { level: 2, name: "Choose a course" })).toBeVisible();
});
