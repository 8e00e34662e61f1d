// What both Playwright suites (the demo's, playwright.config.ts, and examples/minimal's,
// minimal.config.ts) share: one worker in order (their specs share one stand-in provider whose
// state some of them change), the same timeouts, and how their web servers run.

/** The run: serial, no retries, `.only` refused on CI. */
export const serialSuite = {
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
};

/** Every web server: reused locally, logs on E2E_SERVER_LOGS, stopped with SIGTERM. */
export const webServerDefaults = {
  timeout: 60_000,
  reuseExistingServer: !process.env.CI,
  stdout: process.env.E2E_SERVER_LOGS ? 'pipe' : 'ignore',
  stderr: 'pipe',
  gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
};
