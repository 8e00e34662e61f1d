// HTTP for the reliability suite: a sign-up through the app and the stand-in's registration form
// (each client its own user), bare requests to one app instance with a session cookie, and what
// an answer of the app is (the profile, the guest page, the store's 503 page, ...).
import http from 'node:http';

import { Browser, decodeEntities, isRedirect, location, parseForm } from '../browser-like.mjs';

export const SESSION_COOKIE = 'leptos_fusionauth_session';

/** The `sub` claim shown on the profile page (the claims as JSON in a <pre>). */
export function subjectOf(page) {
  const m = /"sub":\s*"([^"]+)"/.exec(decodeEntities(page));
  return m?.[1];
}

/**
 * Registers a new user through the app, as a browser would: GET APP_URL/register → the
 * stand-in's registration form → POST it → redirects → APP_URL/callback → the profile.
 * `connect` is where APP_URL's requests go (the load balancer). Answers { cookie, subject }.
 */
export async function signUp({ appUrl, connect, email, password, firstName, lastName }) {
  const browser = new Browser(new URL(appUrl).origin, connect);
  const { url: formUrl, html } = await browser.followToPage(`${appUrl}/register`, 'the registration form', { accept: 'text/html' });
  if (!/id="registration-form"/.test(html)) throw new Error(`no registration form at ${formUrl}`);
  const form = parseForm(html, formUrl);
  let res = await browser.request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, email, password, firstName, lastName }).toString(),
  });
  if (!isRedirect(res.status)) throw new Error(`registration form POST answered ${res.status}`);
  const url = await browser.followUntil(location(res, form.action), `${appUrl}/callback`);
  res = await browser.request(url);
  await res.arrayBuffer();
  if (res.status !== 303) throw new Error(`/callback answered ${res.status}, expected 303`);
  const cookie = browser.jar.get(new URL(appUrl).hostname, SESSION_COOKIE);
  if (!cookie) throw new Error('no session cookie after the callback');
  res = await browser.request(location(res, url));
  const page = await res.text();
  if (res.status !== 200 || !page.includes(`You are logged in as ${email}`)) {
    throw new Error(`GET / after the sign-up answered ${res.status} without the profile`);
  }
  return { cookie, subject: subjectOf(page) };
}

/**
 * One request to an app instance (node:http over `agent`, kept-alive connections): resolves to
 * { status, body, setCookie } or rejects with the connection error (its `code`: ECONNREFUSED,
 * ECONNRESET, ETIMEDOUT for our own timeout, ...).
 */
export function bareRequest(agent, port, { method = 'GET', path = '/', headers = {}, body, timeoutMs = 20_000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path, agent, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({
        status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), setCookie: res.headers['set-cookie'] ?? [], location: res.headers.location,
      }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The session cookie an answer sets: undefined when it sets none, null when it removes it,
 * else the new value.
 */
export function sessionCookieSet(setCookie) {
  for (const line of setCookie) {
    if (!line.startsWith(`${SESSION_COOKIE}=`)) continue;
    const value = line.split(';')[0].slice(SESSION_COOKIE.length + 1);
    const removed = value === '' || /;\s*max-age\s*=\s*(0|-)/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
    return removed ? null : value;
  }
  return undefined;
}

/**
 * What an answer of GET / is, for a client signed in as `email`: `profile`, `profile-stale` (the
 * access token shown as expired: its refresh is failing), `wrong-user` (another user's profile),
 * `guest`, `guest-notice` (the guest page saying the provider ended the session),
 * `store-503` (the clear "Session store unavailable" page), `503-other`, or `http-<status>`.
 */
export function classifyPage({ status, body }, email) {
  if (status === 200) {
    if (body.includes('You are logged in as ')) {
      if (!body.includes(`You are logged in as ${email}<`)) return 'wrong-user';
      return body.includes('The access token has expired.') ? 'profile-stale' : 'profile';
    }
    if (body.includes('Hello Guest')) return body.includes('Your session has ended at the identity provider') ? 'guest-notice' : 'guest';
  }
  if (status === 503) return body.includes('Session store unavailable') ? 'store-503' : '503-other';
  return `http-${status}`;
}
