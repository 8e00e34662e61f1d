import { defineConfig } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromiumLaunchOptions } from './support/chromium.mjs';
import { REPO_ROOT, envExample, setting, suiteSettings } from './support/env.mjs';

// end2end/; the app runs from the repository root (it reads Leptos.toml from its working directory).
const here = path.dirname(fileURLToPath(import.meta.url));

// Values shared with the app (.env.example; the environment wins, FUSIONAUTH_URL for the issuer).
// tests/helpers.ts reads the same through suiteSettings().
const { realFusionAuth, issuer: ISSUER, appUrl: APP_URL, clientId, clientSecret } = suiteSettings();

// One throw-away session database per test run (the config is also evaluated in the workers:
// they inherit E2E_SESSION_DIR from the runner instead of creating their own directory).
if (!process.env.E2E_SESSION_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leptos-fusionauth-e2e-'));
  process.env.E2E_SESSION_DIR = dir;
  // The runner exits after it has stopped the web servers.
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
const sessionDb = path.join(process.env.E2E_SESSION_DIR, 'sessions.sqlite');

const targetDir = path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR ?? 'target');
const appCommand = process.env.APP_COMMAND ?? JSON.stringify(path.join(targetDir, 'release', 'leptos-fusionauth'));

const reuse = !process.env.CI;
const serverOutput = process.env.E2E_SERVER_LOGS ? 'pipe' : 'ignore';

export default defineConfig({
  testDir: './tests',
  // The specs share one identity provider whose state some of them change (stop/start, key rotation).
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]],
  outputDir: 'test-results',
  use: {
    baseURL: APP_URL,
    viewport: { width: 1000, height: 700 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: chromiumLaunchOptions(),
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    // (1) the stand-in provider — skipped when FUSIONAUTH_URL points at a real FusionAuth.
    ...(realFusionAuth
      ? []
      : [
          {
            name: 'provider',
            command: 'npm run provider',
            cwd: here,
            url: 'http://localhost:9011/.well-known/openid-configuration',
            timeout: 60_000,
            reuseExistingServer: reuse,
            stdout: serverOutput,
            stderr: 'pipe',
            gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
            // A fresh signing key per run (first kid from the kickstart); the key-rotation spec
            // must not leave a rotated key in provider/.data.
            env: { PROVIDER_DATA_DIR: path.join(process.env.E2E_SESSION_DIR, 'provider-data') },
          } as const,
        ]),
    // (2) the app (release binary built by `cargo leptos build --release`).
    {
      name: 'app',
      command: appCommand,
      cwd: REPO_ROOT,
      url: `${APP_URL}/healthz`,
      timeout: 120_000,
      reuseExistingServer: reuse,
      stdout: serverOutput,
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        ...envExample(),
        CLIENT_ID: clientId,
        CLIENT_SECRET: clientSecret,
        ISSUER,
        APP_SECRET_KEY: setting('APP_SECRET_KEY'),
        APP_URL,
        OIDC_DISCOVERY_TTL_SECS: '0',
        SESSION_DATABASE_URL: `sqlite://${sessionDb}?mode=rwc`,
        RUST_LOG: process.env.RUST_LOG ?? 'info',
        // cargo-leptos writes the site (wasm, JS, CSS) to target/site in the repository, whatever CARGO_TARGET_DIR is.
        LEPTOS_SITE_ROOT: path.join(REPO_ROOT, "target", "site"),
      },
    },
  ],
});
