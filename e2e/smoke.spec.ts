import { test, expect } from "@playwright/test";
import { startGateway, type RunningServer } from "./support/stack";

let gateway: RunningServer;

test.beforeAll(async () => {
  gateway = await startGateway();
});

test.afterAll(async () => {
  await gateway?.stop();
});

test("the demo page shows the widget's first step", async ({ page }) => {
  await page.goto(gateway.url + "/");
  await expect(page.getByRole("heading", { level: 2, name: "Choose a course" })).toBeVisible();
});
