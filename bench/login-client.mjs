#!/usr/bin/env node
// A real login over HTTP, no browser: what a browser does between clicking "Login" and seeing the
// profile, done with fetch and a small cookie jar.
//
//   POST /api/login (form return_to=/, Origin + Accept: text/html, as a no-JS form post)
//     → 302 to the provider's /oauth2/authorize → provider redirects (its cookies kept)
//     → login form: parse its action and hidden inputs → POST loginId + password
//     → provider redirects until APP_URL/callback?code&state → GET it with the app cookie
//     → 303 / (with Server-Timing) → GET / : the profile page.
//
// Usage (node 20+; only node's own fetch and http, no packages):
//   node bench/login-client.mjs cookie            one login; prints the session cookie value
//   node bench/login-client.mjs bench N [OUT]     N logins in a row (fresh cookie jar each), JSON
//                                                 timings to OUT (default stdout)
//   node bench/login-client.mjs sessions N [C]    N complete logins with C in flight (default
//                                                 16), each with a fresh cookie jar: N signed-in
//                                                 sessions in the store (a login start alone
//                                                 stores nothing)
//   node bench/login-client.mjs flood N [C] [OUT] N × POST /api/login with C in flight (default
//                                                 32), no cookie kept (every request a new
//                                                 visitor), return_to `/` and a 256-character
//                                                 path in turn; checks every answer (302 to the
//                                                 provider's authorization endpoint, the
//                                                 login-attempt cookie, no session cookie), then
//                                                 measures the attempt cookie of one browser
//                                                 that starts 6 logins; JSON to OUT (or stdout),
//                                                 exit 1 when any answer was wrong
//
// Environment: APP_URL (default: .env.example's), APP_CONNECT (where to connect for APP_URL,
// default 127.0.0.1 on the port of .env.example's APP_URL: the app listens on IPv4 loopback
// only), ISSUER (flood: the provider, default .env.example's), E2E_USER_EMAIL,
// E2E_USER_PASSWORD (default: the kickstart's demo user).

import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import http from 'node:http';

import { demoSetting, demoUser, setting, trimSlash } from '../end2end/support/env.mjs';
import { Browser, isRedirect, location, parseForm } from './browser-like.mjs';

const APP_URL = trimSlash(setting('APP_URL'));
const APP_CONNECT = trimSlash(process.env.APP_CONNECT ?? `http://127.0.0.1:${new URL(demoSetting('APP_URL')).port}`);
const { email: EMAIL, password: PASSWORD } = demoUser();
const SESSION_COOKIE = 'leptos_fusionauth_session';
// The login-attempt cookie (crates/leptos-fusionauth/src/server/login_attempts.rs; `__Host-` prefixed on https only).
const LOGIN_COOKIE = 'leptos_fusionauth_login';
// The longest return path the app keeps (MAX_RETURN_PATH in crates/leptos-fusionauth/src/server/return_to.rs).
const LONGEST_RETURN_PATH = `/flood?pad=${'x'.repeat(256 - '/flood?pad='.length)}`;
const APP_ORIGIN = new URL(APP_URL).origin;

/** A browser for the app (reached at APP_CONNECT) and the provider. */
const newBrowser = () => new Browser(APP_ORIGIN, APP_CONNECT);

/** Parses `app;dur=1.2, idp;dur=3.4, total;dur=4.6` into { app: 1.2, idp: 3.4, total: 4.6 }. */
export function parseServerTiming(value) {
  if (!value) return null;
  const out = {};
  for (const metric of value.split(',')) {
    const [name, ...params] = metric.trim().split(';');
    for (const p of params) {
      const m = /^\s*dur\s*=\s*"?([0-9.]+)"?\s*$/i.exec(p);
      if (m && name) out[name.trim()] = Number(m[1]);
    }
  }
  return Object.keys(out).length ? out : null;
}

/** POST /api/login as the no-JS form post; returns the response (302 to the provider). */
async function startLogin(browser, returnTo = '/') {
  return browser.request(`${APP_URL}/api/login`, {
    method: 'POST',
    headers: {
      origin: APP_ORIGIN,
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ return_to: returnTo }).toString(),
  });
}

/** One complete login with a fresh jar. Returns the cookie and the timings (ms). */
export async function login() {
  const browser = newBrowser();
  const t0 = performance.now();
  let res = await startLogin(browser);
  if (res.status !== 302) throw new Error(`POST /api/login answered ${res.status}, expected 302: ${await res.text()}`);
  let url = location(res, `${APP_URL}/api/login`);
  const tStart = performance.now();

  // Provider redirects until its login form.
  const formPage = await browser.followToPage(url, 'the login form');
  if (!/id="loginId"/.test(formPage.html) || !/id="password"/.test(formPage.html)) {
    throw new Error(`no login form at ${formPage.url}`);
  }
  const form = parseForm(formPage.html, formPage.url);
  const tForm = performance.now();

  res = await browser.request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, loginId: EMAIL, password: PASSWORD }).toString(),
  });
  if (!isRedirect(res.status)) throw new Error(`login form POST answered ${res.status}: wrong credentials?`);

  // Provider redirects until the app's callback.
  url = await browser.followUntil(location(res, form.action), `${APP_URL}/callback`);
  const tCallbackStart = performance.now();
  res = await browser.request(url);
  const tCallback = performance.now();
  if (res.status !== 303) throw new Error(`/callback answered ${res.status}, expected 303`);
  const landing = location(res, url);
  if (landing !== `${APP_URL}/`) throw new Error(`/callback redirected to ${landing}, expected ${APP_URL}/`);
  const serverTiming = parseServerTiming(res.headers.get('server-timing'));
  const cookie = browser.jar.get(new URL(APP_URL).hostname, SESSION_COOKIE);
  if (!cookie) throw new Error('no session cookie after the callback');

  res = await browser.request(landing);
  const page = await res.text();
  const tEnd = performance.now();
  if (res.status !== 200 || !page.includes('You are logged in as')) {
    throw new Error(`GET / after login answered ${res.status} without the profile`);
  }
  return {
    cookie,
    timings: {
      total: tEnd - t0, // POST /api/login → profile page received
      toCallback: tCallback - t0, // POST /api/login → /callback's 303 received
      appLoginStart: tStart - t0, // POST /api/login alone
      providerForm: tForm - tStart, // provider redirects + login form
      callback: tCallback - tCallbackStart, // GET /callback as the client sees it
      profile: tEnd - tCallback, // GET / (SSR profile)
    },
    serverTiming,
  };
}

const quantile = (sorted, q) => {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
};

function summarize(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return {
    n: v.length,
    min: v[0],
    p50: quantile(v, 0.5),
    p95: quantile(v, 0.95),
    p99: quantile(v, 0.99),
    max: v[v.length - 1],
  };
}

async function benchLogins(n) {
  await login(); // warm-up: discovery, JWKS, connections (not counted)
  const runs = [];
  for (let i = 0; i < n; i++) runs.push(await login());
  const timings = {};
  for (const key of Object.keys(runs[0].timings)) timings[key] = summarize(runs.map((r) => r.timings[key]));
  const withHeader = runs.filter((r) => r.serverTiming);
  // What /callback costs outside the handler's own clock (the session layer saving the new
  // session after the handler returned, HTTP): client-side time minus Server-Timing total.
  const outside = withHeader.filter((r) => typeof r.serverTiming.total === 'number');
  if (outside.length) timings.callbackOutsideHandler = summarize(outside.map((r) => r.timings.callback - r.serverTiming.total));
  const serverTiming = withHeader.length
    ? Object.fromEntries(
        [...new Set(withHeader.flatMap((r) => Object.keys(r.serverTiming)))].map((k) => [
          k,
          summarize(withHeader.map((r) => r.serverTiming[k])),
        ]),
      )
    : null;
  return {
    logins: n,
    timings,
    serverTiming, // null when /callback sent no Server-Timing header
    serverTimingSample: withHeader[0] ? withHeader[0].serverTiming : null,
  };
}

/** Calls `task(i)` for i = 0 … n-1, `concurrency` calls in flight; returns the seconds taken. */
async function inParallel(n, concurrency, task) {
  let next = 0;
  const t0 = performance.now();
  async function worker() {
    while (next < n) await task(next++);
  }
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return (performance.now() - t0) / 1000;
}

const tally = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
const failureKey = (err) => String(err.cause?.code ?? err.code ?? err.message);
/** The `name=value` part of the Set-Cookie line (of `lines`) that sets cookie `name`, if any. */
const cookiePair = (lines, name) => lines.find((line) => line.startsWith(`${name}=`))?.split(';')[0];

async function createSessions(n, concurrency) {
  let ok = 0;
  const failures = new Map();
  const seconds = await inParallel(n, concurrency, async () => {
    try {
      await login(); // throws unless it ends on the profile page with a session cookie
      ok++;
    } catch (err) {
      tally(failures, failureKey(err));
    }
  });
  return { requested: n, created: ok, failures: Object.fromEntries(failures), seconds };
}

/** The provider's authorization endpoint, from its discovery document. */
async function authorizationEndpoint() {
  const issuer = trimSlash(setting('ISSUER'));
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`${issuer} discovery answered ${res.status}`);
  return (await res.json()).authorization_endpoint;
}

/**
 * startLogin for a visitor without cookies, on node:http over `agent`'s kept-alive connections:
 * fetch costs the client more CPU per request than the app spends answering, so a flood through
 * fetch would measure the client. Resolves to the status, Location and Set-Cookie lines.
 */
function startLoginBare(agent, body) {
  return new Promise((resolve, reject) => {
    const headers = {
      origin: APP_ORIGIN,
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
    };
    const req = http.request(`${APP_CONNECT}/api/login`, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode, location: res.headers.location, setCookie: res.headers['set-cookie'] ?? [] }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * N anonymous login starts, C in flight, each from a new visitor (no cookie sent); even ones
 * with return_to `/`, odd ones with the longest return path the app keeps. Every answer is
 * checked: a 302 to the provider's authorization endpoint that sets the login-attempt cookie and
 * no session cookie.
 */
async function flood(n, concurrency) {
  const authorize = await authorizationEndpoint();
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const bodies = {
    short: new URLSearchParams({ return_to: '/' }).toString(),
    long: new URLSearchParams({ return_to: LONGEST_RETURN_PATH }).toString(),
  };
  const answers = new Map(); // HTTP status, or the client-side error code → count
  let notToProvider = 0; // 302s elsewhere (an error page of the app, …)
  let noAttemptCookie = 0;
  let sessionCookie = 0;
  const cookieBytes = { short: [], long: [] }; // length of `name=value` of the attempt cookie
  const latency = new Float64Array(n).fill(Number.NaN);
  const seconds = await inParallel(n, concurrency, async (i) => {
    const variant = i % 2 ? 'long' : 'short';
    const t0 = performance.now();
    try {
      const res = await startLoginBare(agent, bodies[variant]);
      latency[i] = performance.now() - t0;
      tally(answers, res.status);
      if (res.status === 302 && !res.location?.startsWith(`${authorize}?`)) notToProvider++;
      const attempt = cookiePair(res.setCookie, LOGIN_COOKIE);
      if (attempt) cookieBytes[variant].push(attempt.length);
      else noAttemptCookie++;
      if (cookiePair(res.setCookie, SESSION_COOKIE)) sessionCookie++;
    } catch (err) {
      tally(answers, failureKey(err));
    }
  });
  agent.destroy();
  const non302 = n - (answers.get(302) ?? 0);
  return {
    requests: n,
    concurrency,
    seconds,
    requestsPerSecond: n / seconds,
    answers: Object.fromEntries(answers),
    non302,
    notToProvider,
    noAttemptCookie,
    sessionCookie,
    wrong: non302 + notToProvider + noAttemptCookie + sessionCookie,
    latencyMs: summarize(Array.from(latency)),
    returnPathLengths: { short: 1, long: LONGEST_RETURN_PATH.length },
    attemptCookieBytes: { short: summarize(cookieBytes.short), long: summarize(cookieBytes.long) },
    oneBrowser: await oneBrowserAttempts(6),
  };
}

/**
 * One browser that keeps its cookies and starts `starts` logins with the longest return path:
 * the size of its attempt cookie after each (the app keeps at most 5 attempts, so it stops
 * growing there, well under the 4096 bytes a browser keeps per cookie).
 */
async function oneBrowserAttempts(starts) {
  const browser = newBrowser();
  const cookieBytes = [];
  for (let i = 0; i < starts; i++) {
    const res = await startLogin(browser, LONGEST_RETURN_PATH);
    await res.arrayBuffer();
    if (res.status !== 302) throw new Error(`POST /api/login answered ${res.status}, expected 302`);
    cookieBytes.push(cookiePair(res.headers.getSetCookie(), LOGIN_COOKIE)?.length ?? null);
  }
  return { returnPathLength: LONGEST_RETURN_PATH.length, cookieBytes };
}

async function main() {
  const [mode = 'cookie', arg1, arg2, arg3] = process.argv.slice(2);
  if (mode === 'cookie') {
    const { cookie } = await login();
    process.stdout.write(`${cookie}\n`);
  } else if (mode === 'bench') {
    const result = await benchLogins(Number(arg1 ?? 50));
    const json = `${JSON.stringify(result, null, 2)}\n`;
    if (arg2) fs.writeFileSync(arg2, json);
    else process.stdout.write(json);
  } else if (mode === 'sessions') {
    const result = await createSessions(Number(arg1 ?? 10000), Number(arg2 ?? 16));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (result.created !== result.requested) process.exitCode = 1;
  } else if (mode === 'flood') {
    const result = await flood(Number(arg1 ?? 100000), Number(arg2 ?? 32));
    const json = `${JSON.stringify(result, null, 2)}\n`;
    if (arg3) fs.writeFileSync(arg3, json);
    else process.stdout.write(json);
    console.error(
      `${result.requests} requests in ${result.seconds.toFixed(1)} s (${Math.round(result.requestsPerSecond)}/s), ` +
        `answers ${JSON.stringify(result.answers)}, wrong ${result.wrong}`,
    );
    if (result.wrong) process.exitCode = 1;
  } else {
    console.error('usage: login-client.mjs cookie | bench N [OUT] | sessions N [CONCURRENCY] | flood N [CONCURRENCY] [OUT]');
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('login-client.mjs')) {
  main().catch((err) => {
    console.error(`login-client: ${err.message}`);
    process.exit(1);
  });
}
