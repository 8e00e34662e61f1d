#!/usr/bin/env node
// Time to interactive of the guest page: N loads, each in a fresh browser context (empty cache,
// no cookies), from navigation start to the app's `hydrated` performance mark (set by
// hydrate() in src/lib.rs once every island of the page is hydrated).
//
// Usage: node bench/tti.mjs [N=20] [OUT.json] — uses playwright-core from end2end/node_modules
// and the system Chromium as the Playwright suite starts it (end2end/support/chromium.mjs:
// CHROMIUM_PATH, default /usr/bin/chromium). URL: TTI_URL (default: APP_URL of .env.example, /).
import { createRequire } from 'node:module';
import fs from 'node:fs';

import { chromiumLaunchOptions } from '../end2end/support/chromium.mjs';
import { demoSetting, trimSlash } from '../end2end/support/env.mjs';

const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const loads = Number(process.argv[2] ?? 20);
const out = process.argv[3];
const url = process.env.TTI_URL ?? `${trimSlash(demoSetting('APP_URL'))}/`;

const browser = await chromium.launch(chromiumLaunchOptions());

async function loadOnce() {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const response = await page.goto(url, { waitUntil: 'commit' });
    if (!response || response.status() !== 200) throw new Error(`GET ${url} answered ${response?.status()}`);
    try {
      await page.waitForFunction(() => performance.getEntriesByName('hydrated', 'mark').length > 0, null, {
        timeout: 15_000,
        polling: 'raf',
      });
    } catch (err) {
      throw new Error(`no "hydrated" mark within 15 s${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`);
    }
    return await page.evaluate(() => {
      const [nav] = performance.getEntriesByType('navigation');
      const mark = performance.getEntriesByName('hydrated', 'mark')[0];
      // The hydration bundle's two files, to split the time: fetched by when, and what is left.
      const resource = (suffix) =>
        performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname.endsWith(suffix));
      const js = resource('.js');
      const wasm = resource('.wasm');
      // startTime of every entry counts from the navigation start (the time origin).
      return {
        hydrated: mark.startTime,
        responseEnd: nav.responseEnd,
        domContentLoaded: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd || null,
        jsStart: js?.startTime ?? null,
        jsEnd: js?.responseEnd ?? null,
        wasmStart: wasm?.startTime ?? null,
        wasmEnd: wasm?.responseEnd ?? null,
      };
    });
  } finally {
    await context.close();
  }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
function summarize(values) {
  const v = values.filter((x) => typeof x === 'number' && x > 0).sort((a, b) => a - b);
  if (!v.length) return null;
  return { n: v.length, min: v[0], p50: quantile(v, 0.5), p95: quantile(v, 0.95), max: v[v.length - 1] };
}

try {
  await loadOnce(); // warm-up: renderer process start-up, not counted
  const samples = [];
  for (let i = 0; i < loads; i++) samples.push(await loadOnce());
  const result = {
    url,
    loads,
    browser: `chromium ${browser.version()}`,
    hydrated: summarize(samples.map((s) => s.hydrated)),
    domContentLoaded: summarize(samples.map((s) => s.domContentLoaded)),
    responseEnd: summarize(samples.map((s) => s.responseEnd)),
    // When the JS glue and the wasm were requested and received (resource timing).
    jsStart: summarize(samples.map((s) => s.jsStart)),
    jsEnd: summarize(samples.map((s) => s.jsEnd)),
    wasmStart: summarize(samples.map((s) => s.wasmStart)),
    wasmEnd: summarize(samples.map((s) => s.wasmEnd)),
    samples: samples.map((s) => Math.round(s.hydrated * 10) / 10),
  };
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (out) fs.writeFileSync(out, json);
  else process.stdout.write(json);
} catch (err) {
  console.error(`tti: ${err.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
