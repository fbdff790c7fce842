import { defineConfig } from "@playwright/test";

// The server is started by run.sh (fresh SQLite database, freshly built binary: the optimized,
// split and precompressed build unless E2E_PROFILE=debug); it passes its address in BASE_URL.
// global-setup.ts makes the system administrator; every spec file then makes its own tenant
// spaces and data, so the files do not depend on each other.
export default defineConfig({
  // "functional": every page a person uses; "perf": the first-load budget (perf/), which only
  // means something against the optimized build (run.sh leaves it out with SKIP_PERF=1).
  // "screenshots" (screenshots/): the README's pictures, only when SCREENSHOTS names where to
  // write them (`make screenshots`).
  projects: [
    { name: "functional", testDir: "./tests" },
    { name: "perf", testDir: "./perf" },
    ...(process.env.SCREENSHOTS ? [{ name: "screenshots", testDir: "./screenshots" }] : []),
  ],
  globalSetup: "./global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3210",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
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
