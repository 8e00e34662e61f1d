// Logout as FusionAuth does it: /oauth2/logout ends the SSO session and renders the page that
// loads every application's logoutURL in hidden iframes before it redirects; POST /api/logout
// revokes a refresh token, or with global all of its owner's and the owner's SSO sessions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import {
  APP, OTHER, RICHARD, authorize, authorizeUrl, kickstart, location, makeClient, refresh, signIn, useStandIn, userinfo,
} from './testing.mjs';

const REFRESH_TOKEN_INVALID = { error: 'invalid_grant', error_description: 'The refresh_token is invalid.', error_reason: 'refresh_token_not_found' };

/** The redirect target of FusionAuth's logout page, and the iframes it loads. */
function logoutPageOf(html) {
  const refresh = /<meta http-equiv="Refresh" content="2; url=([^"]*)">/.exec(html);
  return {
    redirect: refresh?.[1].replace(/&amp;/g, '&'),
    iframes: [...html.matchAll(/<iframe src="([^"]*)" style="width:0; height:0; border:0; border:none;"><\/iframe>/g)].map((m) => m[1]),
  };
}

async function logout(c, params) {
  const res = await c.request(`/oauth2/logout?${new URLSearchParams(params)}`);
  assert.equal(res.status, 200, 'FusionAuth answers with its logout page, not a redirect');
  assert.match(res.headers.get('cache-control'), /no-store/);
  return logoutPageOf(await res.text());
}

function apiLogout(issuer, { json, query } = {}) {
  return fetch(`${issuer}/api/logout${query ? `?${new URLSearchParams(query)}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json' : 'text/plain' },
    body: json ? JSON.stringify(json) : '',
  });
}

describe('logout', () => {
  const standIn = useStandIn();

  test('/oauth2/logout: every application\'s logoutURL in a hidden iframe, then the redirect after 2 s', async () => {
    const { c, tokens } = await signIn(standIn.issuer);
    const page = await logout(c, {
      client_id: APP.clientId, id_token_hint: tokens.id_token, post_logout_redirect_uri: APP.logoutUrl, state: 'abc',
    });
    assert.deepEqual(page.iframes, [APP.logoutUrl, OTHER.logoutUrl]);
    assert.equal(page.redirect, `${APP.logoutUrl}?state=abc`);
    assert.ok(!c.jar.cookies.has('fusionauth.sso'), 'SSO cookie cleared');

    // the SSO session is gone: the next authorize shows the form again
    assert.equal((await c.request(authorizeUrl(standIn.issuer).url)).status, 200);
    // tokens stay valid after logout (FusionAuth ends the SSO session only)
    assert.equal((await userinfo(standIn.issuer, tokens.access_token)).status, 200);
    assert.equal((await refresh(standIn.issuer, tokens.refresh_token)).status, 200);

    // redirect fallbacks: unknown post_logout_redirect_uri → logoutURL; id_token_hint alone → logoutURL; nothing → /
    assert.equal((await logout(c, { client_id: APP.clientId, post_logout_redirect_uri: 'http://evil.example/' })).redirect, APP.logoutUrl);
    assert.equal((await logout(c, { id_token_hint: tokens.id_token })).redirect, APP.logoutUrl);
    assert.equal((await logout(c, {})).redirect, '/');
    const other = await logout(c, { client_id: OTHER.clientId, post_logout_redirect_uri: `${new URL(OTHER.logoutUrl).origin}/` });
    assert.equal(other.redirect, `${new URL(OTHER.logoutUrl).origin}/`);
  });

  test('POST /api/logout revokes that refresh token only; the SSO session and other tokens stay', async () => {
    const one = await signIn(standIn.issuer);
    const two = await signIn(standIn.issuer);
    const res = await apiLogout(standIn.issuer, { json: { refreshToken: one.tokens.refresh_token, global: false } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '', 'no body');
    const refused = await refresh(standIn.issuer, one.tokens.refresh_token);
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body, REFRESH_TOKEN_INVALID);
    assert.equal((await refresh(standIn.issuer, two.tokens.refresh_token)).status, 200);
    await authorize(one.c, { expectForm: false });
  });

  test('POST /api/logout with global (as query parameters): every refresh token and SSO session of the owner', async () => {
    const here = await signIn(standIn.issuer);
    const there = await signIn(standIn.issuer, { app: OTHER });
    const res = await apiLogout(standIn.issuer, { query: { refreshToken: here.tokens.refresh_token, global: 'true' } });
    assert.equal(res.status, 200);
    for (const { tokens, flow } of [here, there]) {
      assert.deepEqual((await refresh(standIn.issuer, tokens.refresh_token, { app: flow.app })).body, REFRESH_TOKEN_INVALID);
    }
    assert.equal((await here.c.request(authorizeUrl(standIn.issuer).url)).status, 200, 'the SSO session has ended: the form again');
    assert.equal((await there.c.request(authorizeUrl(standIn.issuer, { app: OTHER }).url)).status, 200, 'in every browser');
    assert.equal((await userinfo(standIn.issuer, here.tokens.access_token)).status, 200, 'access tokens (JWTs) live until they expire');
    const other = await signIn(standIn.issuer, { credentials: { ...RICHARD } });
    assert.equal((await refresh(standIn.issuer, other.tokens.refresh_token)).status, 200, 'a new login works');
  });

  test('POST /api/logout with an unknown, revoked or missing token: 200, nothing happens', async () => {
    const { tokens } = await signIn(standIn.issuer);
    assert.equal((await apiLogout(standIn.issuer, { json: { refreshToken: 'not-a-token', global: true } })).status, 200);
    assert.equal((await apiLogout(standIn.issuer, { json: {} })).status, 200);
    assert.equal((await apiLogout(standIn.issuer)).status, 200);
    assert.equal((await refresh(standIn.issuer, tokens.refresh_token)).status, 200);
    assert.equal((await apiLogout(standIn.issuer, { json: { refreshToken: tokens.refresh_token } })).status, 200);
    assert.equal((await apiLogout(standIn.issuer, { json: { refreshToken: tokens.refresh_token } })).status, 200, 'twice');
    const broken = await fetch(`${standIn.issuer}/api/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.equal(broken.status, 400);
  });
});

describe('logoutBehavior RedirectOnly', () => {
  // The kickstart with LeptosExampleApp set to RedirectOnly, in a file of its own.
  const dir = mkdtempSync(join(tmpdir(), 'standin-kickstart-'));
  const file = join(dir, 'kickstart.json');
  const changed = structuredClone(kickstart);
  changed.requests.find((r) => r.url === '/api/application/#{clientId}').body.application.oauthConfiguration.logoutBehavior = 'RedirectOnly';
  writeFileSync(file, JSON.stringify(changed));
  const standIn = useStandIn({ KICKSTART_FILE: file });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('/oauth2/logout ends the SSO session and redirects at once, without the iframes', async () => {
    const { c } = await signIn(standIn.issuer);
    const res = await c.request(`/oauth2/logout?${new URLSearchParams({ client_id: APP.clientId, post_logout_redirect_uri: APP.logoutUrl })}`);
    assert.equal(res.status, 302);
    assert.equal(location(res), APP.logoutUrl);
    assert.equal((await c.request(authorizeUrl(standIn.issuer).url)).status, 200, 'the SSO session has ended');
  });
});
