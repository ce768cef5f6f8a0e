import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./chromium";

// The browser benchmarks `cargo xtask bench` runs: one at a time, so that
// their timings do not share the machine with each other.
export default defineConfig({
  testDir: "bench",
  testMatch: "*.bench.ts",
  outputDir: "artifacts/bench",
  workers: 1,
  retries: 0,
  timeout: 180_000,
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    launchOptions: chromiumLaunchOptions,
  },
});
