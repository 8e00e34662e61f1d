import { defineConfig } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromiumLaunchOptions } from './support/chromium.mjs';
import { serialSuite, webServerDefaults } from './support/suite.mjs';
import { REPO_ROOT, envExample, suiteSettings } from './support/env.mjs';

// The playwright suite of examples/minimal: the example app (release binary `minimal`, built by
// `cargo leptos build --release`) against the stand-in provider, with the demo's settings
// (.env.example) on the demo's address, so the stand-in's application knows its redirect URL.
const here = path.dirname(fileURLToPath(import.meta.url));
const { appUrl, clientId, clientSecret, issuer } = suiteSettings();

if (!process.env.E2E_MINIMAL_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leptos-fusionauth-minimal-'));
  process.env.E2E_MINIMAL_DIR = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
const dataDir = process.env.E2E_MINIMAL_DIR;
const targetDir = path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR ?? 'target');
const server = { ...webServerDefaults, timeout: 120_000 };

export default defineConfig({
  testDir: './minimal',
  ...serialSuite,
  reporter: [['list']],
  outputDir: 'test-results/minimal',
  use: {
    baseURL: appUrl,
    browserName: 'chromium',
    trace: 'retain-on-failure',
    launchOptions: chromiumLaunchOptions(),
  },
  webServer: [
    {
      ...server,
      name: 'provider',
      command: 'npm run provider',
      cwd: here,
      url: `${issuer}/.well-known/openid-configuration`,
      env: { PROVIDER_DATA_DIR: path.join(dataDir, 'provider-data') },
    },
    {
      ...server,
      name: 'minimal',
      command: JSON.stringify(path.join(targetDir, 'release', 'minimal')),
      cwd: REPO_ROOT,
      url: appUrl,
      env: {
        ...envExample(),
        CLIENT_ID: clientId,
        CLIENT_SECRET: clientSecret,
        ISSUER: issuer,
        APP_URL: appUrl,
        SESSION_DATABASE_URL: `sqlite://${path.join(dataDir, 'sessions.sqlite')}?mode=rwc`,
        LEPTOS_OUTPUT_NAME: 'minimal',
        LEPTOS_SITE_ROOT: path.join(REPO_ROOT, 'target', 'site-minimal'),
        LEPTOS_SITE_PKG_DIR: 'pkg',
        LEPTOS_SITE_ADDR: new URL(appUrl).host.replace('localhost', '127.0.0.1'),
        RUST_LOG: process.env.RUST_LOG ?? 'info',
      },
    },
  ],
});
