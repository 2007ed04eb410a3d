import { defineConfig } from "@playwright/test";

// The browser tests run against a whole fleet that is already up (make
// test-client starts one with infra/local), reached through its nginx.
const baseURL = process.env.BASE_URL;
if (!baseURL) {
  throw new Error("BASE_URL is not set: point it at the fleet's nginx (make test-client does), e.g. BASE_URL=http://127.0.0.1:8080");
}

export default defineConfig({
  testDir: "./e2e",
  // One browser at a time: the tests share one fleet and this machine has
  // two cores; each test makes its own users and tickets.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  outputDir: "test-results/artifacts",
  reporter: [["list"]],
  use: {
    baseURL,
    browserName: "chromium",
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium, not a browser Playwright downloads.
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
