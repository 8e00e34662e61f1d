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
// Usage (node 20+; only node's own fetch, no packages):
//   node bench/login-client.mjs cookie            one login; prints the session cookie value
//   node bench/login-client.mjs bench N [OUT]     N logins in a row (fresh cookie jar each), JSON
//                                                 timings to OUT (default stdout)
//   node bench/login-client.mjs sessions N [C]    N × POST /api/login with C in flight (default
//                                                 16), no cookie kept: N new sessions, each
//                                                 holding a pending login attempt
//
// Environment: APP_URL (default: .env.example's), APP_CONNECT (where to connect for APP_URL,
// default 127.0.0.1 on the port of .env.example's APP_URL: the app listens on IPv4 loopback
// only), E2E_USER_EMAIL, E2E_USER_PASSWORD (default: the kickstart's demo user).

import { performance } from 'node:perf_hooks';
import fs from 'node:fs';

import { demoSetting, demoUser, setting, trimSlash } from '../end2end/support/env.mjs';

const APP_URL = trimSlash(setting('APP_URL'));
const APP_CONNECT = trimSlash(process.env.APP_CONNECT ?? `http://127.0.0.1:${new URL(demoSetting('APP_URL')).port}`);
const { email: EMAIL, password: PASSWORD } = demoUser();
const SESSION_COOKIE = 'leptos_fusionauth_session';
const APP_ORIGIN = new URL(APP_URL).origin;
const MAX_HOPS = 20;

/** Cookies as a browser keeps them: per host name (not port), path-scoped, Max-Age/Expires honoured. */
class CookieJar {
  constructor() {
    this.cookies = new Map(); // `${host}\t${path}\t${name}` → { host, path, name, value }
  }

  store(url, response) {
    const { hostname, pathname } = new URL(url);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path' && v.trim().startsWith('/')) path = v.trim();
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${hostname}\t${path}\t${name}`;
      if (expired) this.cookies.delete(id);
      else this.cookies.set(id, { host: hostname, path, name, value });
    }
  }

  header(url) {
    const { hostname, pathname } = new URL(url);
    const pairs = [];
    for (const c of this.cookies.values()) {
      if (c.host !== hostname) continue;
      if (!(pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))) continue;
      pairs.push(`${c.name}=${c.value}`);
    }
    return pairs.join('; ');
  }

  get(host, name) {
    for (const c of this.cookies.values()) if (c.host === host && c.name === name) return c.value;
    return undefined;
  }
}

/** The app listens on 127.0.0.1 only; `localhost` may resolve to ::1 first. */
function connectUrl(url) {
  return url.startsWith(`${APP_ORIGIN}/`) || url === APP_ORIGIN ? APP_CONNECT + url.slice(APP_ORIGIN.length) : url;
}

async function request(jar, url, { method = 'GET', headers = {}, body } = {}) {
  const cookie = jar.header(url);
  const res = await fetch(connectUrl(url), {
    method,
    redirect: 'manual',
    headers: { ...(cookie ? { cookie } : {}), ...headers },
    body,
  });
  jar.store(url, res);
  return res;
}

const location = (res, base) => {
  const loc = res.headers.get('location');
  if (!loc) throw new Error(`${res.status} from ${base} without Location`);
  return new URL(loc, base).href;
};

const isRedirect = (status) => status >= 300 && status < 400;

/** Inputs and action of the first <form> in html (the provider's login form). */
function parseForm(html, base) {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error('no <form> on the provider page');
  const attr = (tag, name) => {
    const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
    return m ? decodeEntities(m[2] ?? m[3] ?? m[4]) : undefined;
  };
  const action = new URL(attr(form[1], 'action') ?? base, base).href;
  const fields = {};
  for (const input of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input[0], 'name');
    if (name) fields[name] = attr(input[0], 'value') ?? '';
  }
  return { action, fields };
}

function decodeEntities(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

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
async function startLogin(jar) {
  return request(jar, `${APP_URL}/api/login`, {
    method: 'POST',
    headers: {
      origin: APP_ORIGIN,
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ return_to: '/' }).toString(),
  });
}

/** One complete login with a fresh jar. Returns the cookie and the timings (ms). */
export async function login() {
  const jar = new CookieJar();
  const t0 = performance.now();
  let res = await startLogin(jar);
  if (res.status !== 302) throw new Error(`POST /api/login answered ${res.status}, expected 302: ${await res.text()}`);
  let url = location(res, `${APP_URL}/api/login`);
  const tStart = performance.now();

  // Provider redirects until its login form.
  let html;
  for (let hop = 0; ; hop++) {
    if (hop > MAX_HOPS) throw new Error('too many redirects before the login form');
    res = await request(jar, url);
    if (isRedirect(res.status)) {
      url = location(res, url);
      continue;
    }
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    html = await res.text();
    break;
  }
  if (!/id="loginId"/.test(html) || !/id="password"/.test(html)) throw new Error(`no login form at ${url}`);
  const form = parseForm(html, url);
  const tForm = performance.now();

  res = await request(jar, form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, loginId: EMAIL, password: PASSWORD }).toString(),
  });
  if (!isRedirect(res.status)) throw new Error(`login form POST answered ${res.status}: wrong credentials?`);
  url = location(res, form.action);

  // Provider redirects until the app's callback.
  for (let hop = 0; !url.startsWith(`${APP_URL}/callback`); hop++) {
    if (hop > MAX_HOPS) throw new Error('too many redirects before the callback');
    res = await request(jar, url);
    if (!isRedirect(res.status)) throw new Error(`${url} answered ${res.status} instead of redirecting to the app`);
    url = location(res, url);
  }
  const tCallbackStart = performance.now();
  res = await request(jar, url);
  const tCallback = performance.now();
  if (res.status !== 303) throw new Error(`/callback answered ${res.status}, expected 303`);
  const landing = location(res, url);
  if (landing !== `${APP_URL}/`) throw new Error(`/callback redirected to ${landing}, expected ${APP_URL}/`);
  const serverTiming = parseServerTiming(res.headers.get('server-timing'));
  const cookie = jar.get(new URL(APP_URL).hostname, SESSION_COOKIE);
  if (!cookie) throw new Error('no session cookie after the callback');

  res = await request(jar, landing);
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
  return { n: v.length, min: v[0], p50: quantile(v, 0.5), p95: quantile(v, 0.95), max: v[v.length - 1] };
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

async function createSessions(n, concurrency) {
  let next = 0;
  let ok = 0;
  const failures = new Map();
  const t0 = performance.now();
  async function worker() {
    while (next < n) {
      next++;
      try {
        const res = await startLogin(new CookieJar());
        await res.arrayBuffer();
        const setCookie = res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`));
        if (res.status === 302 && setCookie) ok++;
        else failures.set(res.status, (failures.get(res.status) ?? 0) + 1);
      } catch (err) {
        const key = String(err.cause?.code ?? err.message);
        failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    requested: n,
    created: ok,
    failures: Object.fromEntries(failures),
    seconds: (performance.now() - t0) / 1000,
  };
}

async function main() {
  const [mode = 'cookie', arg1, arg2] = process.argv.slice(2);
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
  } else {
    console.error('usage: login-client.mjs cookie | bench N [OUT] | sessions N [CONCURRENCY]');
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('login-client.mjs')) {
  main().catch((err) => {
    console.error(`login-client: ${err.message}`);
    process.exit(1);
  });
}
