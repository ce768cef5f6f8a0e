import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./chromium";

// The end-to-end tests (`*.spec.ts`); `cargo xtask test` runs them. The
// browser benchmarks (`bench/*.bench.ts`) have their own configuration.
export default defineConfig({
  testDir: ".",
  outputDir: "artifacts",
  fullyParallel: false,
  workers: 2,
  retries: 0,
  // A `test.only` left in a spec would silently skip the rest on CI.
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  // Web-first assertions wait this long: generous for a machine whose two
  // cores are shared with builds; a passing test does not wait for it.
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json"]],
  use: {
    browserName: "chromium",
    launchOptions: chromiumLaunchOptions,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
  },
});
