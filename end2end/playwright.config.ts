import { defineConfig } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromiumLaunchOptions } from './support/chromium.mjs';
import { serialSuite, webServerDefaults } from './support/suite.mjs';
import { REPO_ROOT, deployments, envExample, setting, stepUpMaxAgeSecs, suiteSettings } from './support/env.mjs';
import type { DeploymentOptions } from './tests/helpers';

// end2end/; the app runs from the repository root (it reads Leptos.toml from its working directory).
const here = path.dirname(fileURLToPath(import.meta.url));

// Values shared with the app (.env.example; the environment wins, FUSIONAUTH_URL for the issuer).
// tests/helpers.ts reads the same through suiteSettings() and deployments().
const { realFusionAuth, clientId, clientSecret } = suiteSettings();
// The app runs in two deployments (support/env.mjs): same-site (APP_URL and ISSUER) and, with the
// stand-in only, cross-site (a stand-in, the app and the other application of its own).
const { sameSite, crossSite } = deployments();

// One throw-away session database per test run (the config is also evaluated in the workers:
// they inherit E2E_SESSION_DIR from the runner instead of creating their own directory).
if (!process.env.E2E_SESSION_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leptos-fusionauth-e2e-'));
  process.env.E2E_SESSION_DIR = dir;
  // The runner exits after it has stopped the web servers.
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
const sessionDir = process.env.E2E_SESSION_DIR;

const port = (url: string) => new URL(url).port;

const targetDir = path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR ?? 'target');
const appCommand = process.env.APP_COMMAND ?? JSON.stringify(path.join(targetDir, 'release', 'leptos-fusionauth'));

/** What every server entry shares. */
const server = webServerDefaults;

/** The app (release binary built by `cargo leptos build --release`) for one deployment. */
function appServer(name: string, { appUrl, issuer }: { appUrl: string; issuer: string }, env: Record<string, string>) {
  return {
    ...server,
    name,
    command: appCommand,
    cwd: REPO_ROOT,
    url: `${appUrl}/healthz`,
    timeout: 120_000,
    env: {
      ...envExample(),
      CLIENT_ID: clientId,
      CLIENT_SECRET: clientSecret,
      ISSUER: issuer,
      APP_SECRET_KEY: setting('APP_SECRET_KEY'),
      APP_URL: appUrl,
      OIDC_DISCOVERY_TTL_SECS: '0',
      RUST_LOG: process.env.RUST_LOG ?? 'info',
      // cargo-leptos writes the site (wasm, JS, CSS) to target/site in the repository, whatever CARGO_TARGET_DIR is.
      LEPTOS_SITE_ROOT: path.join(REPO_ROOT, 'target', 'site'),
      ...env,
    },
  };
}

/** The other application of the tenant (other-app/, `npm run other-app`) for one deployment. */
function otherAppServer(name: string, { otherAppUrl, issuer }: { otherAppUrl: string; issuer: string }, env: Record<string, string> = {}) {
  return {
    ...server,
    name,
    command: 'npm run other-app',
    cwd: here,
    url: `${otherAppUrl}/healthz`,
    env: { ISSUER: issuer, OTHER_APP_PORT: port(otherAppUrl), ...env },
  };
}

// The cross-site deployment's kickstart: the same tenant, applications and users, with this
// deployment's URLs (redirect and logout URLs of both applications, the webhook URL, the issuer).
const crossSiteKickstart = JSON.stringify({ issuer: crossSite.issuer, appUrl: crossSite.appUrl, otherAppUrl: crossSite.otherAppUrl });

export default defineConfig<DeploymentOptions>({
  testDir: './tests',
  // The specs share one identity provider whose state some of them change (stop/start, key rotation).
  ...serialSuite,
  reporter: [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    viewport: { width: 1000, height: 700 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: chromiumLaunchOptions(),
  },
  projects: [
    // Every spec, against the app on the same site as FusionAuth (the usual deployment).
    { name: 'same-site', use: { baseURL: sameSite.appUrl, deployment: sameSite } },
    // The logout matrix again, with the app and FusionAuth on different sites (stand-in only: a
    // real FusionAuth would need this deployment's URLs in its applications).
    ...(realFusionAuth
      ? []
      : [{ name: 'cross-site', testMatch: /logout-matrix\.spec\.ts$/, use: { baseURL: crossSite.appUrl, deployment: crossSite } }]),
  ],
  webServer: [
    // Same site: (1) the stand-in provider — skipped when FUSIONAUTH_URL points at a real FusionAuth.
    ...(realFusionAuth
      ? []
      : [
          {
            ...server,
            name: 'provider',
            command: 'npm run provider',
            cwd: here,
            url: 'http://localhost:9011/.well-known/openid-configuration',
            // A fresh signing key per run (first kid from the kickstart); the key-rotation spec
            // must not leave a rotated key in provider/.data.
            env: { PROVIDER_DATA_DIR: path.join(sessionDir, 'provider-data') },
          },
        ]),
    // (2) the app. STEP_UP_MAX_AGE_SECS is short for tests/step-up.spec.ts (see support/env.mjs):
    // one app for every spec, so that the step-up spec runs against a real FusionAuth too, whose
    // kickstart knows only this app's redirect URLs.
    appServer('app', sameSite, {
      SESSION_DATABASE_URL: `sqlite://${path.join(sessionDir, 'sessions.sqlite')}?mode=rwc`,
      STEP_UP_MAX_AGE_SECS: String(stepUpMaxAgeSecs()),
    }),
    // (3) the other application of the tenant, for tests/logout-matrix.spec.ts.
    otherAppServer('other app', sameSite),
    // Cross site: a stand-in, the app and the other application of their own.
    ...(realFusionAuth
      ? []
      : [
          {
            ...server,
            name: 'provider (cross-site)',
            command: 'npm run provider',
            cwd: here,
            url: `${crossSite.issuer}/.well-known/openid-configuration`,
            env: {
              PORT: port(crossSite.issuer),
              CONTROL_PORT: port(crossSite.controlUrl),
              ISSUER: crossSite.issuer,
              KICKSTART_VARIABLES: crossSiteKickstart,
              FUSIONAUTH_WEBHOOK_URL: `${crossSite.appUrl}/webhooks/fusionauth`,
              PROVIDER_DATA_DIR: path.join(sessionDir, 'provider-data-cross-site'),
            },
          },
          appServer('app (cross-site)', crossSite, {
            LEPTOS_SITE_ADDR: new URL(crossSite.appUrl).host,
            SESSION_DATABASE_URL: `sqlite://${path.join(sessionDir, 'sessions-cross-site.sqlite')}?mode=rwc`,
          }),
          otherAppServer('other app (cross-site)', crossSite, { KICKSTART_VARIABLES: crossSiteKickstart }),
        ]),
  ],
});
