// Checks the stand-in provider end to end with plain fetch calls: discovery, keys, the login and
// registration forms at /oauth2/authorize and /oauth2/register, the code flow with PKCE, the ID
// token, userinfo, refresh, introspection and the control port's provider life cycle.
// Run: `node --test provider/` in end2end/ (or `npm run provider:test`).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  APP, INITIAL_KID, RICHARD, TENANT_ID, atHashOf, authorize, authorizeUrl, decodeJwt, exchange, followProvider,
  introspect, jwksOf, location, makeClient, pkce, refresh, startProcess, stopProcess, useStandIn, userinfo,
  verifyRs256,
} from './testing.mjs';

describe('stand-in FusionAuth provider', () => {
  const standIn = useStandIn();

  test('starts quickly and logs one line', () => {
    assert.equal(standIn.proc.output(), `stand-in provider listening on ${standIn.issuer}\n`);
    assert.ok(standIn.proc.startupMs < 3000, `started in ${standIn.proc.startupMs} ms`);
  });

  test('discovery is laid out like FusionAuth', async () => {
    const res = await fetch(`${standIn.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const d = await res.json();
    assert.equal(d.issuer, standIn.issuer);
    assert.equal(d.authorization_endpoint, `${standIn.issuer}/oauth2/authorize`);
    assert.equal(d.token_endpoint, `${standIn.issuer}/oauth2/token`);
    assert.equal(d.userinfo_endpoint, `${standIn.issuer}/oauth2/userinfo`);
    assert.equal(d.end_session_endpoint, `${standIn.issuer}/oauth2/logout`);
    assert.equal(d.introspection_endpoint, `${standIn.issuer}/oauth2/introspect`);
    assert.equal(d.jwks_uri, `${standIn.issuer}/.well-known/jwks.json`);
    assert.equal(d.registration_endpoint, undefined, 'FusionAuth does not advertise a registration endpoint');
    assert.equal(d.revocation_endpoint, undefined, 'FusionAuth has no revocation endpoint');
    assert.deepEqual(new Set(d.token_endpoint_auth_methods_supported), new Set(['client_secret_basic', 'client_secret_post']));
    assert.ok(d.code_challenge_methods_supported.includes('S256'));
    assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'));
    assert.ok(d.scopes_supported.includes('offline_access'));
  });

  test('JWKS holds the kickstart key id', async () => {
    const jwks = await jwksOf(standIn.issuer);
    assert.deepEqual(jwks.keys.map((k) => k.kid), [INITIAL_KID]);
    assert.equal(jwks.keys[0].alg, 'RS256');
    assert.equal(jwks.keys[0].d, undefined, 'no private parts');
    const persisted = JSON.parse(readFileSync(join(standIn.dataDir, 'keys.json'), 'utf8'));
    assert.equal(persisted.keys[0].kid, INITIAL_KID);
  });

  test('the login form is rendered by /oauth2/authorize itself and posted back to it', async () => {
    const c = makeClient(standIn.issuer);
    const req = authorizeUrl(standIn.issuer);
    let res = await c.request(req.url);
    assert.equal(res.status, 200, 'no redirect: the form is the authorize response');
    assert.match(res.headers.get('content-type'), /text\/html/);
    assert.match(res.headers.get('cache-control'), /no-store/);
    const html = await res.text();
    assert.match(html, /<form action="\/oauth2\/authorize" method="POST"/);
    assert.match(html, /<input[^>]*id="loginId"/);
    assert.match(html, /<input[^>]*type="password"[^>]*id="password"|<input[^>]*id="password"[^>]*type="password"/);
    assert.match(html, /<button[^>]*type="submit"[^>]*>Submit<\/button>/);
    assert.doesNotMatch(html, /Invalid login credentials/);

    res = await c.postForm('/oauth2/authorize', { loginId: RICHARD.email, password: 'wrong-password' });
    assert.equal(res.status, 200, 'wrong password re-renders the form');
    const errorHtml = await res.text();
    assert.match(errorHtml, /Invalid login credentials\./);
    assert.match(errorHtml, /id="loginId"[^>]*value="richard@example.com"|value="richard@example.com"[^>]*id="loginId"/);
    res = await c.postForm('/oauth2/authorize', { loginId: 'nobody@example.com', password: 'password' });
    assert.match(await res.text(), /Invalid login credentials\./, 'unknown user gets the same message');

    // the right password: no consent screen; one hop inside /oauth2/authorize, then the app
    res = await c.postForm('/oauth2/authorize', { loginId: RICHARD.email, password: RICHARD.password });
    assert.equal(res.status, 303);
    assert.match(location(res), new RegExp(`^${standIn.issuer}/oauth2/authorize/[\\w-]+$`));
    res = await c.request(location(res));
    assert.equal(res.status, 303);
    const callback = new URL(location(res));
    assert.equal(`${callback.origin}${callback.pathname}`, APP.redirectUri);
    assert.equal(callback.searchParams.get('state'), req.state);
    assert.equal(callback.searchParams.get('iss'), standIn.issuer);
    assert.equal(callback.searchParams.get('locale'), 'en');
    assert.equal(callback.searchParams.get('userState'), 'Authenticated');
    assert.ok(callback.searchParams.get('code'));

    // provider cookies: not the app's name, not Secure, SameSite=Lax
    assert.ok(c.jar.cookies.has('fusionauth.sso'));
    for (const [name, { attrs }] of c.jar.cookies) {
      assert.notEqual(name, 'leptos_fusionauth_session');
      assert.ok(!attrs.some((a) => a.toLowerCase() === 'secure'), `${name} is not Secure`);
      assert.ok(attrs.some((a) => a.toLowerCase() === 'samesite=lax'), `${name} is SameSite=Lax`);
    }

    // the SSO session skips the form
    await authorize(c, { expectForm: false });
  });

  test('a POST /oauth2/authorize that is not the login form is an OAuth request for oidc-provider', async () => {
    const c = makeClient(standIn.issuer);
    await authorize(c); // leaves an SSO session and an interaction cookie behind
    const req = new URL(authorizeUrl(standIn.issuer).url);
    const res = await c.postForm('/oauth2/authorize', Object.fromEntries(req.searchParams));
    assert.equal(res.status, 303);
    assert.ok(location(res).startsWith(`${APP.redirectUri}?`), location(res));
  });

  test('code + PKCE flow: tokens, ID token, userinfo, refresh, introspection', async () => {
    const c = makeClient(standIn.issuer);
    const flow = await authorize(c);

    // a wrong verifier is refused (PKCE enforced); the code is burnt, so log in again via SSO
    const bad = await exchange(standIn.issuer, { ...flow, verifier: pkce().verifier });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_grant');
    const sso = await authorize(c, { expectForm: false });
    const { status, body: tokens } = await exchange(standIn.issuer, sso);
    assert.equal(status, 200, JSON.stringify(tokens));
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
    assert.match(tokens.refresh_token_id, /^[0-9a-f-]{36}$/);
    assert.equal(tokens.userId, RICHARD.id);
    assert.deepEqual(new Set(tokens.scope.split(' ')), new Set(['openid', 'profile', 'email', 'offline_access']));

    const jwks = await jwksOf(standIn.issuer);
    const { header, payload: claims } = verifyRs256(tokens.id_token, jwks);
    assert.equal(header.kid, INITIAL_KID);
    assert.equal(claims.iss, standIn.issuer);
    assert.equal(claims.aud, APP.clientId);
    assert.equal(claims.sub, RICHARD.id);
    assert.equal(claims.email, RICHARD.email);
    assert.equal(claims.email_verified, true);
    assert.equal(claims.given_name, 'Richard');
    assert.equal(claims.family_name, 'Hendricks');
    assert.equal(claims.name, 'Richard Hendricks');
    assert.equal(claims.nonce, sso.nonce);
    assert.equal(claims.authenticationType, 'PASSWORD');
    assert.equal(claims.tid, TENANT_ID);
    assert.match(claims.jti, /^[0-9a-f-]{36}$/);
    assert.ok(claims.sid);
    assert.equal(claims.applicationId, undefined, 'applicationId left the ID token in FusionAuth 1.24');
    assert.equal(typeof claims.auth_time, 'number');
    assert.ok(claims.exp > claims.iat);
    assert.equal(claims.at_hash, atHashOf(tokens.access_token), 'at_hash is the hash of the JWT the client holds');

    // userinfo (Strict scope handling, FusionAuth's default: no applicationId, roles or tid)
    let res = await userinfo(standIn.issuer, tokens.access_token);
    assert.equal(res.status, 200);
    const info = await res.json();
    assert.equal(info.sub, RICHARD.id);
    assert.equal(info.email, RICHARD.email);
    assert.equal(info.email_verified, true);
    assert.equal(info.name, 'Richard Hendricks');
    assert.equal(info.applicationId, undefined);

    // refresh with client_secret_post (Reusable: no new refresh token in the answer)
    const refreshed = await refresh(standIn.issuer, tokens.refresh_token, { auth: 'post' });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.access_token, tokens.access_token);
    assert.equal(refreshed.body.refresh_token, undefined, 'a Reusable refresh token is not sent again');
    assert.equal(refreshed.body.refresh_token_id, tokens.refresh_token_id);
    const { payload: refreshedClaims } = verifyRs256(refreshed.body.id_token, jwks);
    assert.equal(refreshedClaims.sub, RICHARD.id);
    assert.equal(refreshedClaims.authenticationType, 'REFRESH_TOKEN');
    assert.equal(refreshedClaims.at_hash, atHashOf(refreshed.body.access_token));

    // a wrong client secret is refused
    res = await fetch(`${standIn.issuer}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${APP.clientId}:nope`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    });
    assert.equal(res.status, 401);

    const introspection = await introspect(standIn.issuer, refreshed.body.access_token);
    assert.equal(introspection.active, true);
    assert.equal(introspection.sub, RICHARD.id);

    // without offline_access: no refresh token
    const noOffline = await authorize(c, { expectForm: false, scope: 'openid profile email' });
    const t2 = await exchange(standIn.issuer, noOffline, { auth: 'post' });
    assert.equal(t2.status, 200);
    assert.equal(t2.body.refresh_token, undefined);
  });

  test('PKCE is required', async () => {
    const c = makeClient(standIn.issuer);
    const res = await c.request(authorizeUrl(standIn.issuer, { extra: { code_challenge: undefined, code_challenge_method: undefined } }).url);
    assert.equal(res.status, 303);
    assert.equal(new URL(location(res)).searchParams.get('error'), 'invalid_request');
  });

  test('/oauth2/register renders the registration form itself, takes it back, and the new user has the default role', async () => {
    const c = makeClient(standIn.issuer);
    const req = authorizeUrl(standIn.issuer, { path: '/oauth2/register' });
    let res = await c.request(req.url);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<h1>Register/);
    assert.match(html, /<form action="\/oauth2\/register" method="POST"/);
    assert.match(html, /id="email"/);

    res = await c.postForm('/oauth2/register', { email: 'bad', password: 'x', firstName: '', lastName: '' });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /valid email/);
    res = await c.postForm('/oauth2/register', { email: 'gilfoyle@example.com', password: 'password123', firstName: 'B', lastName: 'G' });
    assert.match(await res.text(), /already exists/, 'the kickstart has a Gilfoyle');

    res = await c.postForm('/oauth2/register', {
      email: 'dinesh@example.com', password: 'password123', firstName: 'Dinesh', lastName: 'Chugtai',
    });
    assert.equal(res.status, 303);
    res = await followProvider(c, res);
    const callback = new URL(location(res));
    assert.equal(callback.searchParams.get('state'), req.state);
    const { body: tokens } = await exchange(standIn.issuer, { ...req, code: callback.searchParams.get('code') });
    const { payload } = decodeJwt(tokens.id_token);
    assert.equal(payload.email, 'dinesh@example.com');
    assert.equal(payload.name, 'Dinesh Chugtai');
    assert.notEqual(payload.sub, RICHARD.id);
    assert.deepEqual(decodeJwt(tokens.access_token).payload.roles, ['user'], 'the application\'s default role');
  });

  test('control: rotate-key changes the kid and drops the old key', async () => {
    let res = await fetch(`${standIn.control}/health`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).kid, INITIAL_KID);

    const c = makeClient(standIn.issuer);
    const first = await authorize(c);
    res = await fetch(`${standIn.control}/rotate-key`, { method: 'POST' });
    assert.equal(res.status, 200);
    const { kid, previousKid } = await res.json();
    assert.equal(previousKid, INITIAL_KID);
    assert.notEqual(kid, INITIAL_KID);

    const jwks = await jwksOf(standIn.issuer);
    assert.deepEqual(jwks.keys.map((k) => k.kid), [kid]);
    assert.equal(JSON.parse(readFileSync(join(standIn.dataDir, 'keys.json'), 'utf8')).keys[0].kid, kid);

    // the SSO session and the pending code survive the rotation; new tokens use the new key
    const { body: tokens } = await exchange(standIn.issuer, first);
    assert.equal(verifyRs256(tokens.id_token, jwks).header.kid, kid);
    assert.equal(verifyRs256(tokens.access_token, jwks).header.kid, kid);
    const again = await authorize(c, { expectForm: false });
    const { body: t2 } = await exchange(standIn.issuer, again);
    assert.equal(decodeJwt(t2.id_token).header.kid, kid);
  });

  test('control: stop refuses connections, start reopens', async () => {
    let res = await fetch(`${standIn.control}/stop`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).listening, false);
    await assert.rejects(fetch(`${standIn.issuer}/.well-known/openid-configuration`), (err) => {
      assert.match(String(err.cause?.code ?? err.cause?.errors?.[0]?.code), /ECONNREFUSED/);
      return true;
    });
    res = await fetch(`${standIn.control}/start`, { method: 'POST' });
    assert.equal((await res.json()).listening, true);
    res = await fetch(`${standIn.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
  });

  test('the key survives a restart; ACCESS_TOKEN_TTL_SECS shortens token lifetime', async () => {
    const { kid } = await (await fetch(`${standIn.control}/health`)).json();
    await stopProcess(standIn.proc.child);
    standIn.proc = await startProcess(join(import.meta.dirname, 'server.mjs'), { ...standIn.env, ACCESS_TOKEN_TTL_SECS: '5' });
    const jwks = await jwksOf(standIn.issuer);
    assert.deepEqual(jwks.keys.map((k) => k.kid), [kid]);

    const c = makeClient(standIn.issuer);
    const { body: tokens } = await exchange(standIn.issuer, await authorize(c));
    assert.equal(tokens.expires_in, 5);
    const { payload } = decodeJwt(tokens.id_token);
    assert.equal(payload.exp - payload.iat, 5);
    const { payload: access } = decodeJwt(tokens.access_token);
    assert.equal(access.exp - access.iat, 5);
  });
});
