// Captures what the stand-in provider answers to a real login, for the type contract:
// starts end2end/provider/server.mjs on free loopback ports (throw-away key directory), performs an
// authorization-code + PKCE login over HTTP through its login form (like provider/provider.test.mjs),
// then a refresh, and returns the JSON bodies and the ID-token claims.
//
//   node contract/standin-capture.mjs     prints the capture as JSON
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const KICKSTART = JSON.parse(readFileSync(path.join(here, '..', '..', 'kickstart', 'kickstart.json'), 'utf8'));
const CLIENT_ID = KICKSTART.variables.clientId;
const CLIENT_SECRET = KICKSTART.variables.clientSecret;
const REDIRECT_URI = `${KICKSTART.variables.appUrl}/callback`;
const USER = { email: KICKSTART.variables.userEmail, password: KICKSTART.variables.userPassword };

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function startProvider(env) {
  const child = spawn(process.execPath, [path.join(here, '..', 'provider', 'server.mjs')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the stand-in did not start within 20 s:\n${output}`));
    }, 20_000);
    child.stdout.on('data', (d) => {
      output += d;
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr.on('data', (d) => { output += d; });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the stand-in exited (${code}):\n${output}`));
    });
  });
}

async function stopProvider(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** fetch without following redirects, with a cookie jar (the stand-in's cookies are per host). */
function browser(issuer) {
  const cookies = new Map();
  return async (url, init = {}) => {
    const headers = { ...(init.headers ?? {}) };
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(new URL(url, issuer), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    return res;
  };
}

function expectStatus(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}`);
}

const decodeJwtPart = (jwt, index) => JSON.parse(Buffer.from(jwt.split('.')[index], 'base64url').toString('utf8'));

async function tokenRequest(issuer, form) {
  const res = await fetch(new URL('/oauth2/token', issuer), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`,
    },
    body: new URLSearchParams(form),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`token endpoint: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Logs in through the stand-in and returns { tokenResponse, refreshResponse, userinfo, idTokenClaims, refreshedIdTokenClaims, idTokenHeader }. */
export async function captureStandIn() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fusionauth-contract-'));
  const port = await freePort();
  const controlPort = await freePort();
  const issuer = `http://localhost:${port}`;
  const child = await startProvider({
    PORT: String(port),
    CONTROL_PORT: String(controlPort),
    PROVIDER_DATA_DIR: dataDir,
    ISSUER: '',
  });
  try {
    const go = browser(issuer);
    const verifier = b64url(randomBytes(32));
    const authorize = new URL('/oauth2/authorize', issuer);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile email offline_access',
      state: b64url(randomBytes(12)),
      nonce: b64url(randomBytes(12)),
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
    })) authorize.searchParams.set(k, v);

    let res = await go(authorize.href);
    expectStatus(res, 303, 'authorize');
    const interaction = res.headers.get('location');
    res = await go(interaction);
    expectStatus(res, 200, 'login form');
    res = await go(`${interaction}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ loginId: USER.email, password: USER.password }).toString(),
    });
    expectStatus(res, 303, 'login form POST');
    res = await go(res.headers.get('location'));
    expectStatus(res, 303, 'resume');
    const callback = new URL(res.headers.get('location'));
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`no code on the callback: ${callback.href}`);

    const tokenResponse = await tokenRequest(issuer, {
      grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
    });
    res = await fetch(new URL('/oauth2/userinfo', issuer), { headers: { authorization: `Bearer ${tokenResponse.access_token}` } });
    expectStatus(res, 200, 'userinfo');
    const userinfo = await res.json();
    const refreshResponse = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: tokenResponse.refresh_token });

    return {
      issuer,
      tokenResponse,
      refreshResponse,
      userinfo,
      idTokenHeader: decodeJwtPart(tokenResponse.id_token, 0),
      idTokenClaims: decodeJwtPart(tokenResponse.id_token, 1),
      refreshedIdTokenClaims: decodeJwtPart(refreshResponse.id_token, 1),
    };
  } finally {
    await stopProvider(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await captureStandIn(), null, 2));
}
