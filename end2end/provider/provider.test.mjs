// Checks the stand-in provider end to end with plain fetch calls.
// Run: `node --test provider/` in end2end/ (or `npm run provider:test`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

const here = import.meta.dirname;
const kickstart = JSON.parse(readFileSync(join(here, '../../kickstart/kickstart.json'), 'utf8'));
const CLIENT_ID = kickstart.variables.clientId;
const CLIENT_SECRET = kickstart.variables.clientSecret;
const APP = kickstart.variables.appUrl;
const REDIRECT_URI = `${APP}/callback`;
const LOGOUT_URL = `${APP}/logout`;
const RICHARD = { email: 'richard@example.com', password: 'password', id: kickstart.variables.userUserId };
const INITIAL_KID = '356a6624-b33c-471a-b707-48bbfcfbc593';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

async function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

// ---- a child process running server.mjs ----
function startProvider(env) {
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(here, 'server.mjs')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const ready = new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n')) ok({ child, startupMs: Date.now() - t0, output: () => stdout + stderr });
    });
    child.once('exit', (code) => fail(new Error(`provider exited (${code}): ${stdout}${stderr}`)));
  });
  return ready;
}

async function stopProvider(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  await exited;
}

// ---- a minimal cookie jar (all cookies are on localhost) ----
class Jar {
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

function makeClient(issuer, jar = new Jar()) {
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
  return { jar, request, postForm };
}

function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

function authorizeUrl(issuer, { scope = 'openid profile email offline_access', path = '/oauth2/authorize', extra = {} } = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(12));
  const nonce = b64url(randomBytes(12));
  const url = new URL(path, issuer);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  })) if (v !== undefined) url.searchParams.set(k, v);
  return { url: url.href, verifier, state, nonce };
}

const location = (res) => res.headers.get('location');

function decodeJwt(jwt) {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

function verifyRs256(jwt, jwks) {
  const { header, payload, signingInput, signature } = decodeJwt(jwt);
  assert.equal(header.alg, 'RS256');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
  const ok = verify('RSA-SHA256', Buffer.from(signingInput), createPublicKey({ key: jwk, format: 'jwk' }), signature);
  assert.ok(ok, 'ID token signature verifies against the JWKS');
  return { header, payload };
}

const basicAuth = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;

// Drives GET authorize → (login form) → code. Returns { code, callback, loginPageHtml }.
async function authorize(c, issuer, { credentials = RICHARD, expectForm = true, ...opts } = {}) {
  const req = authorizeUrl(issuer, opts);
  let res = await c.request(req.url);
  assert.equal(res.status, 303, `authorize redirects (${res.status})`);
  let loc = location(res);
  let loginPageHtml;
  if (loc.startsWith('/oauth2/interaction/')) {
    assert.ok(expectForm, 'an interaction was not expected (SSO should have skipped the form)');
    res = await c.request(loc);
    assert.equal(res.status, 200);
    loginPageHtml = await res.text();
    res = await c.postForm(`${loc}/login`, { loginId: credentials.email, password: credentials.password });
    assert.equal(res.status, 303, 'login form POST redirects');
    res = await c.request(location(res));
    assert.equal(res.status, 303, 'resume redirects');
    loc = location(res);
  } else {
    assert.ok(!expectForm, `expected the login form, got ${loc}`);
  }
  assert.ok(loc.startsWith(`${REDIRECT_URI}?`), `redirected to the app callback: ${loc}`);
  const callback = new URL(loc);
  return { ...req, code: callback.searchParams.get('code'), callback, loginPageHtml };
}

async function exchange(issuer, code, verifier, { auth = 'basic' } = {}) {
  const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth === 'basic') headers.authorization = basicAuth;
  else Object.assign(form, { client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
  const res = await fetch(new URL('/oauth2/token', issuer), { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: res.status, body: await res.json() };
}

describe('stand-in FusionAuth provider', () => {
  let issuer;
  let control;
  let dataDir;
  let proc;
  let ports;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'standin-provider-'));
    ports = { main: await freePort(), control: await freePort() };
    issuer = `http://localhost:${ports.main}`;
    control = `http://127.0.0.1:${ports.control}`;
    proc = await startProvider({
      PORT: String(ports.main), CONTROL_PORT: String(ports.control), PROVIDER_DATA_DIR: dataDir,
    });
  });

  after(async () => {
    if (proc) await stopProvider(proc.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('starts quickly and logs one line', () => {
    assert.equal(proc.output(), `stand-in provider listening on ${issuer}\n`);
    assert.ok(proc.startupMs < 3000, `started in ${proc.startupMs} ms`);
  });

  test('discovery is laid out like FusionAuth', async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const d = await res.json();
    assert.equal(d.issuer, issuer);
    assert.equal(d.authorization_endpoint, `${issuer}/oauth2/authorize`);
    assert.equal(d.token_endpoint, `${issuer}/oauth2/token`);
    assert.equal(d.userinfo_endpoint, `${issuer}/oauth2/userinfo`);
    assert.equal(d.end_session_endpoint, `${issuer}/oauth2/logout`);
    assert.equal(d.introspection_endpoint, `${issuer}/oauth2/introspect`);
    assert.equal(d.jwks_uri, `${issuer}/.well-known/jwks.json`);
    assert.equal(d.registration_endpoint, undefined, 'FusionAuth does not advertise a registration endpoint');
    assert.equal(d.revocation_endpoint, undefined, 'FusionAuth has no revocation endpoint');
    assert.deepEqual(new Set(d.token_endpoint_auth_methods_supported), new Set(['client_secret_basic', 'client_secret_post']));
    assert.ok(d.code_challenge_methods_supported.includes('S256'));
    assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'));
    assert.ok(d.scopes_supported.includes('offline_access'));
  });

  test('JWKS holds the kickstart key id', async () => {
    const jwks = await (await fetch(`${issuer}/.well-known/jwks.json`)).json();
    assert.deepEqual(jwks.keys.map((k) => k.kid), [INITIAL_KID]);
    assert.equal(jwks.keys[0].alg, 'RS256');
    assert.equal(jwks.keys[0].d, undefined, 'no private parts');
    const persisted = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8'));
    assert.equal(persisted.keys[0].kid, INITIAL_KID);
  });

  test('login page, wrong password, code + PKCE flow, tokens, userinfo, refresh, introspect, SSO', async () => {
    const c = makeClient(issuer);

    // the form, and a failed attempt
    const req = authorizeUrl(issuer);
    let res = await c.request(req.url);
    assert.equal(res.status, 303);
    const interaction = location(res);
    assert.match(interaction, /^\/oauth2\/interaction\/[\w-]+$/);
    res = await c.request(interaction);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/html/);
    const html = await res.text();
    assert.match(html, /<input[^>]*id="loginId"/);
    assert.match(html, /<input[^>]*id="password"[^>]*type="password"|<input[^>]*type="password"[^>]*id="password"/);
    assert.match(html, /<button[^>]*type="submit"[^>]*>Submit<\/button>/);
    assert.doesNotMatch(html, /Invalid login credentials/);

    res = await c.postForm(`${interaction}/login`, { loginId: RICHARD.email, password: 'wrong-password' });
    assert.equal(res.status, 200, 'wrong password re-renders the form');
    const errorHtml = await res.text();
    assert.match(errorHtml, /Invalid login credentials\./);
    assert.match(errorHtml, /id="loginId"[^>]*value="richard@example.com"|value="richard@example.com"[^>]*id="loginId"/);

    res = await c.postForm(`${interaction}/login`, { loginId: 'nobody@example.com', password: 'password' });
    assert.match(await res.text(), /Invalid login credentials\./, 'unknown user gets the same message');

    // the right password: no consent screen, straight back to the app
    res = await c.postForm(`${interaction}/login`, { loginId: RICHARD.email, password: RICHARD.password });
    assert.equal(res.status, 303);
    res = await c.request(location(res));
    assert.equal(res.status, 303);
    const callback = new URL(location(res));
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
    assert.equal(callback.searchParams.get('state'), req.state);
    assert.equal(callback.searchParams.get('iss'), issuer);
    assert.equal(callback.searchParams.get('userState'), 'Authenticated');
    const code = callback.searchParams.get('code');
    assert.ok(code);

    // provider cookies: not the app's name, not Secure, SameSite=Lax
    assert.ok(c.jar.cookies.has('fusionauth.sso'));
    for (const [name, { attrs }] of c.jar.cookies) {
      assert.notEqual(name, 'leptos_fusionauth_session');
      assert.ok(!attrs.some((a) => a.toLowerCase() === 'secure'), `${name} is not Secure`);
      assert.ok(attrs.some((a) => a.toLowerCase() === 'samesite=lax'), `${name} is SameSite=Lax`);
    }

    // wrong verifier is refused (PKCE enforced)
    const bad = await exchange(issuer, code, pkce().verifier);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_grant');

    // the code was burnt by the failed attempt (oidc-provider consumes on any use), so log in again via SSO
    const sso = await authorize(c, issuer, { expectForm: false });
    const { status, body: tokens } = await exchange(issuer, sso.code, sso.verifier, { auth: 'basic' });
    assert.equal(status, 200, JSON.stringify(tokens));
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
    assert.equal(tokens.userId, RICHARD.id);
    assert.deepEqual(new Set(tokens.scope.split(' ')), new Set(['openid', 'profile', 'email', 'offline_access']));

    const jwks = await (await fetch(`${issuer}/.well-known/jwks.json`)).json();
    const { header, payload: claims } = verifyRs256(tokens.id_token, jwks);
    assert.equal(header.kid, INITIAL_KID);
    assert.equal(claims.iss, issuer);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.sub, RICHARD.id);
    assert.equal(claims.email, RICHARD.email);
    assert.equal(claims.email_verified, true);
    assert.equal(claims.given_name, 'Richard');
    assert.equal(claims.family_name, 'Hendricks');
    assert.equal(claims.name, 'Richard Hendricks');
    assert.equal(claims.nonce, sso.nonce);
    assert.equal(claims.authenticationType, 'PASSWORD');
    assert.equal(claims.tid, kickstart.variables.defaultTenantId);
    assert.match(claims.jti, /^[0-9a-f-]{36}$/);
    assert.ok(claims.sid);
    assert.equal(typeof claims.auth_time, 'number');
    assert.ok(claims.exp > claims.iat);
    const atHash = b64url(createHash('sha256').update(tokens.access_token).digest().subarray(0, 16));
    assert.equal(claims.at_hash, atHash);

    // userinfo
    res = await fetch(`${issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(res.status, 200);
    const userinfo = await res.json();
    assert.equal(userinfo.sub, RICHARD.id);
    assert.equal(userinfo.email, RICHARD.email);
    assert.equal(userinfo.email_verified, true);
    assert.equal(userinfo.name, 'Richard Hendricks');
    assert.equal(userinfo.applicationId, CLIENT_ID);
    assert.deepEqual(userinfo.roles, []);

    // refresh with client_secret_post
    res = await fetch(`${issuer}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: CLIENT_ID, client_secret: CLIENT_SECRET,
      }),
    });
    assert.equal(res.status, 200);
    const refreshed = await res.json();
    assert.notEqual(refreshed.access_token, tokens.access_token);
    const { payload: refreshedClaims } = verifyRs256(refreshed.id_token, jwks);
    assert.equal(refreshedClaims.sub, RICHARD.id);
    assert.equal(refreshedClaims.authenticationType, 'REFRESH_TOKEN');

    // wrong client secret is refused
    res = await fetch(`${issuer}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT_ID}:nope`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    });
    assert.equal(res.status, 401);

    // introspection
    res = await fetch(`${issuer}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth },
      body: new URLSearchParams({ token: refreshed.access_token }),
    });
    const introspection = await res.json();
    assert.equal(introspection.active, true);
    assert.equal(introspection.sub, RICHARD.id);

    // without offline_access: no refresh token
    const noOffline = await authorize(c, issuer, { expectForm: false, scope: 'openid profile email' });
    const t2 = await exchange(issuer, noOffline.code, noOffline.verifier, { auth: 'post' });
    assert.equal(t2.status, 200);
    assert.equal(t2.body.refresh_token, undefined);
  });

  test('PKCE is required', async () => {
    const c = makeClient(issuer);
    const res = await c.request(authorizeUrl(issuer, { extra: { code_challenge: undefined, code_challenge_method: undefined } }).url);
    assert.equal(res.status, 303);
    const loc = new URL(location(res));
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
  });

  test('logout ends the SSO session without a prompt and redirects', async () => {
    const c = makeClient(issuer);
    const flow = await authorize(c, issuer);
    const { body: tokens } = await exchange(issuer, flow.code, flow.verifier);

    let res = await c.request(`/oauth2/logout?${new URLSearchParams({
      client_id: CLIENT_ID, id_token_hint: tokens.id_token, post_logout_redirect_uri: LOGOUT_URL, state: 'abc',
    })}`);
    assert.equal(res.status, 302);
    assert.equal(location(res), `${LOGOUT_URL}?state=abc`);
    assert.ok(!c.jar.cookies.has('fusionauth.sso'), 'SSO cookie cleared');

    // the SSO session is gone: the next authorize shows the form again
    res = await c.request(authorizeUrl(issuer).url);
    assert.match(location(res), /^\/oauth2\/interaction\//);

    // tokens stay valid after logout (FusionAuth ends the SSO session only)
    res = await fetch(`${issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(res.status, 200);

    // fallbacks: unknown post_logout_redirect_uri → logoutURL; id_token_hint alone → logoutURL; nothing → /
    res = await c.request(`/oauth2/logout?${new URLSearchParams({ client_id: CLIENT_ID, post_logout_redirect_uri: 'http://evil.example/' })}`);
    assert.equal(location(res), LOGOUT_URL);
    res = await c.request(`/oauth2/logout?${new URLSearchParams({ id_token_hint: tokens.id_token })}`);
    assert.equal(location(res), LOGOUT_URL);
    res = await c.request('/oauth2/logout');
    assert.equal(res.status, 302);
    assert.equal(location(res), '/');
  });

  test('/oauth2/register takes authorize parameters and renders a registration form', async () => {
    const c = makeClient(issuer);
    const req = authorizeUrl(issuer, { path: '/oauth2/register' });
    let res = await c.request(req.url);
    assert.equal(res.status, 303);
    const interaction = location(res);
    assert.match(interaction, /^\/oauth2\/interaction\//);
    res = await c.request(interaction);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<h1>Register/);
    assert.match(html, /id="email"/);

    res = await c.postForm(`${interaction}/register`, { email: 'bad', password: 'x', firstName: '', lastName: '' });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /valid email/);

    res = await c.postForm(`${interaction}/register`, {
      email: 'gilfoyle@example.com', password: 'password123', firstName: 'Bertram', lastName: 'Gilfoyle',
    });
    assert.equal(res.status, 303);
    res = await c.request(location(res));
    const callback = new URL(location(res));
    assert.equal(callback.searchParams.get('state'), req.state);
    const { body: tokens } = await exchange(issuer, callback.searchParams.get('code'), req.verifier);
    const { payload } = decodeJwt(tokens.id_token);
    assert.equal(payload.email, 'gilfoyle@example.com');
    assert.equal(payload.name, 'Bertram Gilfoyle');
    assert.notEqual(payload.sub, RICHARD.id);
  });

  test('users not registered to the application cannot log in', async () => {
    const c = makeClient(issuer);
    let res = await c.request(authorizeUrl(issuer).url);
    const interaction = location(res);
    res = await c.postForm(`${interaction}/login`, { loginId: 'admin@example.com', password: 'password' });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /not registered/);
  });

  test('control: rotate-key changes the kid and drops the old key', async () => {
    let res = await fetch(`${control}/health`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).kid, INITIAL_KID);

    const c = makeClient(issuer);
    const first = await authorize(c, issuer);

    res = await fetch(`${control}/rotate-key`, { method: 'POST' });
    assert.equal(res.status, 200);
    const { kid, previousKid } = await res.json();
    assert.equal(previousKid, INITIAL_KID);
    assert.notEqual(kid, INITIAL_KID);

    const jwks = await (await fetch(`${issuer}/.well-known/jwks.json`)).json();
    assert.deepEqual(jwks.keys.map((k) => k.kid), [kid]);
    assert.equal(JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')).keys[0].kid, kid);

    // the SSO session and the pending code survive the rotation; new tokens use the new key
    const { body: tokens } = await exchange(issuer, first.code, first.verifier);
    assert.equal(verifyRs256(tokens.id_token, jwks).header.kid, kid);
    const again = await authorize(c, issuer, { expectForm: false });
    const { body: t2 } = await exchange(issuer, again.code, again.verifier);
    assert.equal(decodeJwt(t2.id_token).header.kid, kid);
  });

  test('control: stop refuses connections, start reopens', async () => {
    let res = await fetch(`${control}/stop`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).listening, false);
    await assert.rejects(fetch(`${issuer}/.well-known/openid-configuration`), (err) => {
      assert.match(String(err.cause?.code ?? err.cause?.errors?.[0]?.code), /ECONNREFUSED/);
      return true;
    });

    res = await fetch(`${control}/start`, { method: 'POST' });
    assert.equal((await res.json()).listening, true);
    res = await fetch(`${issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
  });

  test('the key survives a restart; ACCESS_TOKEN_TTL_SECS shortens token lifetime', async () => {
    const { kid } = await (await fetch(`${control}/health`)).json();
    await stopProvider(proc.child);
    proc = await startProvider({
      PORT: String(ports.main), CONTROL_PORT: String(ports.control), PROVIDER_DATA_DIR: dataDir, ACCESS_TOKEN_TTL_SECS: '5',
    });
    const jwks = await (await fetch(`${issuer}/.well-known/jwks.json`)).json();
    assert.deepEqual(jwks.keys.map((k) => k.kid), [kid]);

    const c = makeClient(issuer);
    const flow = await authorize(c, issuer);
    const { body: tokens } = await exchange(issuer, flow.code, flow.verifier);
    assert.equal(tokens.expires_in, 5);
    const { payload } = decodeJwt(tokens.id_token);
    assert.equal(payload.exp - payload.iat, 5);
  });
});
