import { defineConfig } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// end2end/ and the repository root (the app reads Leptos.toml from its working directory).
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');

/** Minimal .env parser: KEY=VALUE lines, `#` comments, optional `export `, optional quotes. */
function parseEnvFile(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, '').trim(); // trailing comment on an unquoted value
    out[m[1]] = value;
  }
  return out;
}

const envExample = parseEnvFile(path.join(repoRoot, '.env.example'));
// Values shared with the app (see .env.example); the process environment wins over the file,
// FUSIONAUTH_URL (a real FusionAuth) wins for the issuer.
const pick = (key: string, fallback: string) => process.env[key] ?? envExample[key] ?? fallback;
const realFusionAuth = process.env.FUSIONAUTH_URL?.replace(/\/+$/, '');
const ISSUER = realFusionAuth ?? pick('ISSUER', 'http://localhost:9011');
const APP_URL = pick('APP_URL', 'http://localhost:5001').replace(/\/+$/, '');
// Make the values visible to the specs (workers inherit the runner's environment).
process.env.E2E_ISSUER = ISSUER;
process.env.E2E_APP_URL = APP_URL;
process.env.E2E_CLIENT_ID = pick('CLIENT_ID', 'e9fdb985-9173-4e01-9d73-ac2d60d1dc8e');

// One throw-away session database per test run (the config is also evaluated in the workers:
// they inherit E2E_SESSION_DIR from the runner instead of creating their own directory).
if (!process.env.E2E_SESSION_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leptos-fusionauth-e2e-'));
  process.env.E2E_SESSION_DIR = dir;
  // The runner exits after it has stopped the web servers.
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
const sessionDb = path.join(process.env.E2E_SESSION_DIR, 'sessions.sqlite');

const targetDir = path.resolve(repoRoot, process.env.CARGO_TARGET_DIR ?? 'target');
const appCommand = process.env.APP_COMMAND ?? JSON.stringify(path.join(targetDir, 'release', 'leptos-fusionauth'));

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

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
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: chromiumArgs,
    },
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
      cwd: repoRoot,
      url: `${APP_URL}/healthz`,
      timeout: 120_000,
      reuseExistingServer: reuse,
      stdout: serverOutput,
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        ...envExample,
        CLIENT_ID: pick('CLIENT_ID', 'e9fdb985-9173-4e01-9d73-ac2d60d1dc8e'),
        CLIENT_SECRET: pick('CLIENT_SECRET', 'change-this-in-production-to-be-a-real-secret'),
        ISSUER,
        APP_SECRET_KEY: pick('APP_SECRET_KEY', 'e2e-only-secret-key-e2e-only-secret-key-e2e-only-secret-key-0123'),
        APP_URL,
        OIDC_DISCOVERY_TTL_SECS: '0',
        SESSION_DATABASE_URL: `sqlite://${sessionDb}?mode=rwc`,
        RUST_LOG: process.env.RUST_LOG ?? 'info',
        // cargo-leptos writes the site (wasm, JS, CSS) to target/site in the repository, whatever CARGO_TARGET_DIR is.
        LEPTOS_SITE_ROOT: path.join(repoRoot, "target", "site"),
      },
    },
  ],
});
