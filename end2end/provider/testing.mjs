// What the stand-in's node tests (and the other app's) share: the kickstart's demo values, a
// stand-in in a child process on free ports, a cookie-keeping client, the authorization code flow
// with PKCE through the login form, token requests, JWT decoding and verification, and the control
// port. Not a test file itself (node --test runs *.test.mjs only).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

const here = import.meta.dirname;
export const kickstart = JSON.parse(readFileSync(join(here, '../../kickstart/kickstart.json'), 'utf8'));
const vars = kickstart.variables;

/** The two applications of the kickstart as OAuth clients. */
export const APP = {
  clientId: vars.clientId, clientSecret: vars.clientSecret, redirectUri: `${vars.appUrl}/callback`, logoutUrl: `${vars.appUrl}/logout`,
};
export const OTHER = {
  clientId: vars.otherClientId, clientSecret: vars.otherClientSecret, redirectUri: `${vars.otherAppUrl}/callback`, logoutUrl: `${vars.otherAppUrl}/logout`,
};
export const RICHARD = { email: vars.userEmail, password: vars.userPassword, id: vars.userUserId };
export const MONICA = { email: 'monica@example.com', password: 'password', id: vars.monicaUserId };
export const GILFOYLE = { email: 'gilfoyle@example.com', password: 'password', id: vars.gilfoyleUserId };
export const INITIAL_KID = vars.keyId;
export const TENANT_ID = vars.defaultTenantId;

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const location = (res) => res.headers.get('location');

export async function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Runs `script` with `env`; resolves once it printed its first line: { child, startupMs, output() }. */
export function startProcess(script, env) {
  const t0 = Date.now();
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n')) ok({ child, startupMs: Date.now() - t0, output: () => stdout + stderr, stderr: () => stderr });
    });
    child.once('exit', (code) => fail(new Error(`${script} exited (${code}): ${stdout}${stderr}`)));
  });
}

export async function stopProcess(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  await exited;
}

/**
 * A stand-in (server.mjs) on free ports with its own data directory, filled into `standIn`
 * ({ issuer, control, dataDir, env, proc, stop() }). `env` adds to its environment; webhooks go to
 * a closed port unless FUSIONAUTH_WEBHOOK_URL is given.
 */
export async function startStandInProcess(env = {}, standIn = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'standin-provider-'));
  const ports = { main: await freePort(), control: await freePort() };
  Object.assign(standIn, {
    dataDir,
    issuer: `http://localhost:${ports.main}`,
    control: `http://127.0.0.1:${ports.control}`,
    env: {
      PORT: String(ports.main), CONTROL_PORT: String(ports.control), PROVIDER_DATA_DIR: dataDir,
      FUSIONAUTH_WEBHOOK_URL: 'http://127.0.0.1:9/webhooks/fusionauth', ...env,
    },
  });
  standIn.proc = await startProcess(join(here, 'server.mjs'), standIn.env);
  standIn.stop = async () => {
    await stopProcess(standIn.proc.child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  return standIn;
}

/** Inside a describe(): the stand-in of its tests, started before them and stopped after them. */
export function useStandIn(env) {
  const standIn = {};
  before(() => startStandInProcess(env, standIn));
  after(() => standIn.stop?.());
  return standIn;
}

/** POST (with a JSON body) or GET (`body` undefined and `method` GET) on the control port; the JSON answer. */
export async function control(standIn, path, body, { method = body === undefined ? 'GET' : 'POST', expect = 200 } = {}) {
  const res = await fetch(`${standIn.control}${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  assert.equal(res.status, expect, `${method} ${path}: ${JSON.stringify(answer)}`);
  return answer;
}

// ---- a minimal cookie jar (all cookies are on one host; paths are ignored) ----
export class Jar {
  cookies = new Map();

  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name); else this.cookies.set(name, { value, attrs: attrs.map((a) => a.trim()) });
    }
  }

  header() {
    return [...this.cookies].map(([n, { value }]) => `${n}=${value}`).join('; ');
  }
}

/** A browser-like client of `issuer`: keeps cookies, never follows redirects. */
export function makeClient(issuer, jar = new Jar()) {
  const request = async (url, init = {}) => {
    const headers = { ...(init.headers ?? {}) };
    if (jar.cookies.size) headers.cookie = jar.header();
    const res = await fetch(new URL(url, issuer), { ...init, headers, redirect: 'manual' });
    jar.store(res);
    return res;
  };
  const postForm = (url, form, headers = {}) => request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { issuer, jar, request, postForm };
}

export function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

/** An authorize URL for `app` with PKCE, state and nonce; `extra` adds or (undefined) removes parameters. */
export function authorizeUrl(issuer, { app = APP, scope = 'openid profile email offline_access', path = '/oauth2/authorize', extra = {} } = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(12));
  const nonce = b64url(randomBytes(12));
  const url = new URL(path, issuer);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, scope, state, nonce,
    code_challenge: challenge, code_challenge_method: 'S256', ...extra,
  })) if (v !== undefined) url.searchParams.set(k, v);
  return { url: url.href, verifier, state, nonce, app };
}

/** Follows the provider's own redirects (same origin) from `res`; answers the first other response. */
export async function followProvider(c, res) {
  let current = res;
  for (let hop = 0; hop < 10; hop += 1) {
    const loc = location(current);
    if (current.status !== 303 && current.status !== 302) return current;
    if (!new URL(loc, c.issuer).href.startsWith(`${c.issuer}/`)) return current;
    current = await c.request(loc);
  }
  throw new Error('too many provider redirects');
}

/**
 * The authorization code flow up to the application's callback: GET authorize, then (unless the
 * SSO session skips it) the login form rendered in that response, posted back to /oauth2/authorize.
 * Answers { code, callback, loginPageHtml, verifier, nonce, state, app }.
 */
export async function authorize(c, { credentials = RICHARD, expectForm = true, ...opts } = {}) {
  const req = authorizeUrl(c.issuer, opts);
  let res = await c.request(req.url);
  let loginPageHtml;
  if (res.status === 200) {
    assert.ok(expectForm, 'the login form was not expected (the SSO session should have skipped it)');
    loginPageHtml = await res.text();
    assert.match(loginPageHtml, /<form action="\/oauth2\/authorize" method="POST"/);
    res = await c.postForm('/oauth2/authorize', { loginId: credentials.email, password: credentials.password });
    assert.equal(res.status, 303, 'the login form POST redirects');
    res = await followProvider(c, res);
  } else {
    assert.ok(!expectForm, `expected the login form, got ${res.status} ${location(res)}`);
  }
  const loc = location(res);
  assert.ok(loc?.startsWith(`${req.app.redirectUri}?`), `redirected to the app callback: ${res.status} ${loc}`);
  const callback = new URL(loc);
  return { ...req, code: callback.searchParams.get('code'), callback, loginPageHtml };
}

const basic = (app) => `Basic ${Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}`;

/** A token endpoint request for `app` (client_secret_basic, or client_secret_post with auth 'post'). */
export async function tokenRequest(issuer, form, { app = APP, auth = 'basic' } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = { ...form };
  if (auth === 'basic') headers.authorization = basic(app);
  else Object.assign(body, { client_id: app.clientId, client_secret: app.clientSecret });
  const res = await fetch(new URL('/oauth2/token', issuer), { method: 'POST', headers, body: new URLSearchParams(body) });
  return { status: res.status, body: await res.json() };
}

export const exchange = (issuer, flow, opts = {}) => tokenRequest(issuer, {
  grant_type: 'authorization_code', code: flow.code, redirect_uri: flow.app.redirectUri, code_verifier: flow.verifier,
}, { app: flow.app, ...opts });

export const refresh = (issuer, refreshToken, opts = {}) => tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: refreshToken }, opts);

/** Logs `credentials` in to `app` in a fresh browser and exchanges the code: { c, flow, tokens }. */
export async function signIn(issuer, { credentials = RICHARD, app = APP, ...opts } = {}) {
  const c = makeClient(issuer);
  const flow = await authorize(c, { credentials, app, ...opts });
  const { status, body: tokens } = await exchange(issuer, flow);
  assert.equal(status, 200, JSON.stringify(tokens));
  return { c, flow, tokens };
}

export function decodeJwt(jwt) {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

export const jwksOf = async (issuer) => (await fetch(`${issuer}/.well-known/jwks.json`)).json();

/** Verifies an RS256 JWT against `jwks`; answers { header, payload }. */
export function verifyRs256(jwt, jwks) {
  const { header, payload, signingInput, signature } = decodeJwt(jwt);
  assert.equal(header.alg, 'RS256');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
  const ok = verify('RSA-SHA256', Buffer.from(signingInput), createPublicKey({ key: jwk, format: 'jwk' }), signature);
  assert.ok(ok, 'the signature verifies against the JWKS');
  return { header, payload };
}

/** OIDC at_hash of an access token (RS256: left half of SHA-256, base64url). */
export const atHashOf = (accessToken) => b64url(createHash('sha256').update(accessToken).digest().subarray(0, 16));

export const userinfo = (issuer, accessToken) => fetch(`${issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });

export async function introspect(issuer, token, app = APP) {
  const res = await fetch(`${issuer}/oauth2/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app) },
    body: new URLSearchParams({ token }),
  });
  return res.json();
}

export const sleep = (ms) => new Promise((ok) => { setTimeout(ok, ms); });
