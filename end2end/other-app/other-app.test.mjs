// Drives the other app headlessly over HTTP against a stand-in, as a browser would: login through
// the provider's form, RP-initiated logout through FusionAuth's logout page (whose iframe is the
// front-channel logout of this app), "Logout everywhere" through the Logout API, and GET /logout.
// Run: `node --test other-app/` in end2end/ (or `npm run other-app:test`).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  RICHARD, authorizeUrl, control, followProvider, freePort, location, makeClient, refresh, signIn, startProcess,
  startStandInProcess, stopProcess,
} from '../provider/testing.mjs';

describe('the other app against the stand-in', () => {
  const standIn = {};
  let app;
  let url;

  before(async () => {
    const port = await freePort();
    url = `http://localhost:${port}`;
    const env = { KICKSTART_VARIABLES: JSON.stringify({ otherAppUrl: url }) };
    await startStandInProcess(env, standIn);
    app = await startProcess(join(import.meta.dirname, 'server.mjs'), { ...env, ISSUER: standIn.issuer });
  });

  after(async () => {
    if (app) await stopProcess(app.child);
    await standIn.stop?.();
  });

  const heading = async (c) => /<h1>([^<]*)<\/h1>/.exec(await (await c.request(`${url}/`)).text())[1];

  /** Login from the home page through the provider's form; answers the browser. */
  async function login(c = makeClient(standIn.issuer)) {
    assert.equal(await heading(c), 'Other app: guest');
    let res = await c.request(`${url}/login`, { method: 'POST', headers: { origin: url } });
    assert.equal(res.status, 303);
    const authorize = new URL(location(res));
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${standIn.issuer}/oauth2/authorize`);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    res = await c.request(authorize.href);
    if (res.status === 200) {
      res = await c.postForm('/oauth2/authorize', { loginId: RICHARD.email, password: RICHARD.password });
      res = await followProvider(c, res);
    }
    assert.ok(location(res).startsWith(`${url}/callback?`), location(res));
    res = await c.request(location(res));
    assert.equal(res.status, 303);
    assert.equal(await heading(c), `Other app: signed in as ${RICHARD.email}`);
    return c;
  }

  test('starts and logs one line', () => {
    assert.equal(app.output(), `other app listening on ${url} (issuer ${standIn.issuer})\n`);
  });

  test('Login, then Logout: FusionAuth\'s logout page frames GET /logout and returns to the app', async () => {
    const c = await login();
    let res = await c.request(`${url}/logout`, { method: 'POST', headers: { origin: url } });
    const logout = new URL(location(res));
    assert.equal(`${logout.origin}${logout.pathname}`, `${standIn.issuer}/oauth2/logout`);
    assert.equal(logout.searchParams.get('post_logout_redirect_uri'), `${url}/`);
    res = await c.request(logout.href);
    const html = await res.text();
    assert.match(html, new RegExp(`<iframe src="${url}/logout"`));
    assert.match(html, new RegExp(`content="2; url=${url}/"`));
    assert.equal(await heading(c), 'Other app: guest');
    assert.equal((await c.request(authorizeUrl(standIn.issuer).url)).status, 200, 'the SSO session has ended');
  });

  test('GET /logout (front channel) ends this browser\'s session, may be framed, and is idempotent', async () => {
    const c = await login();
    for (let i = 0; i < 2; i += 1) {
      const res = await c.request(`${url}/logout`); // eslint-disable-line no-await-in-loop
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-frame-options'), null);
      assert.equal(res.headers.get('content-security-policy'), null);
    }
    assert.equal(await heading(c), 'Other app: guest');
  });

  test('Logout everywhere revokes every refresh token of the user (here a token of the main app too)', async () => {
    const main = await signIn(standIn.issuer);
    const c = await login();
    const res = await c.request(`${url}/logout-everywhere`, { method: 'POST', headers: { origin: url } });
    assert.ok(location(res).startsWith(`${standIn.issuer}/oauth2/logout?`));
    assert.equal((await refresh(standIn.issuer, main.tokens.refresh_token)).status, 400);
    assert.equal(await heading(c), 'Other app: guest');
    const { deliveries } = await control(standIn, '/webhook-deliveries');
    assert.equal(deliveries.at(-1).type, 'jwt.refresh-token.revoke');
  });

  test('a cross-site POST is refused; a callback without a pending login fails cleanly', async () => {
    const c = makeClient(standIn.issuer);
    assert.equal((await c.request(`${url}/login`, { method: 'POST', headers: { origin: 'http://evil.example' } })).status, 403);
    const res = await c.request(`${url}/callback?code=x&state=y`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Other app: login failed/);
  });
});
