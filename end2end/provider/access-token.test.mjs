// The access tokens are FusionAuth's JWTs: header and claims as FusionAuth documents them, signed
// with the key of the JWKS, accepted by userinfo and introspection, re-issued by the refresh grant
// with the roles of that moment, the same sid across one-time-use rotation and the same auth_time.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';

import {
  APP, INITIAL_KID, MONICA, RICHARD, TENANT_ID, atHashOf, control, decodeJwt, introspect, jwksOf, refresh, signIn,
  sleep, useStandIn, userinfo, verifyRs256,
} from './testing.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('JWT access tokens', () => {
  const standIn = useStandIn();

  afterEach(async () => {
    await control(standIn, '/reset', {});
  });

  test('header and claims are FusionAuth\'s (Strict scope handling: no email claims)', async () => {
    const { tokens } = await signIn(standIn.issuer);
    const { header, payload } = verifyRs256(tokens.access_token, await jwksOf(standIn.issuer));
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', gty: ['authorization_code'], kid: INITIAL_KID });
    assert.deepEqual(Object.keys(payload), [
      'aud', 'exp', 'iat', 'iss', 'sub', 'jti', 'authenticationType', 'applicationId', 'scope', 'roles', 'sid', 'auth_time', 'tid',
    ]);
    assert.equal(payload.aud, APP.clientId);
    assert.equal(payload.iss, standIn.issuer);
    assert.equal(payload.sub, RICHARD.id);
    assert.match(payload.jti, UUID);
    assert.equal(payload.exp - payload.iat, 3600);
    assert.equal(payload.authenticationType, 'PASSWORD');
    assert.equal(payload.applicationId, APP.clientId);
    assert.deepEqual(payload.roles, ['user']);
    assert.deepEqual(new Set(payload.scope.split(' ')), new Set(['openid', 'profile', 'email', 'offline_access']));
    assert.equal(payload.sid, tokens.refresh_token_id, 'sid is the refresh token\'s id');
    assert.equal(payload.tid, TENANT_ID);
    assert.equal(payload.auth_time, decodeJwt(tokens.id_token).payload.auth_time);
    assert.equal(decodeJwt(tokens.id_token).payload.at_hash, atHashOf(tokens.access_token));
  });

  test('roles are the registration\'s; no offline_access, no sid', async () => {
    const { tokens } = await signIn(standIn.issuer, { credentials: MONICA, scope: 'openid email' });
    const { payload } = decodeJwt(tokens.access_token);
    assert.deepEqual(payload.roles, ['user', 'admin']);
    assert.equal(payload.sid, undefined);
    assert.equal(tokens.refresh_token, undefined);
  });

  test('userinfo and introspection take the JWT; the bare token id or an altered JWT is refused', async () => {
    const { tokens } = await signIn(standIn.issuer);
    let res = await userinfo(standIn.issuer, tokens.access_token);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).sub, RICHARD.id);
    const active = await introspect(standIn.issuer, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.sub, RICHARD.id);

    const { jti } = decodeJwt(tokens.access_token).payload;
    res = await userinfo(standIn.issuer, jti);
    assert.equal(res.status, 401, 'the opaque token behind the JWT is not a token of its own');
    const [h, p, s] = tokens.access_token.split('.');
    res = await userinfo(standIn.issuer, `${h}.${p}.${s.slice(0, -2)}AA`);
    assert.equal(res.status, 401);
    assert.equal((await introspect(standIn.issuer, jti)).active, false);
  });

  test('refresh: REFRESH_TOKEN, the grants in gty, same auth_time and sid, the roles of that moment', async () => {
    const { tokens } = await signIn(standIn.issuer);
    const first = decodeJwt(tokens.access_token).payload;
    await sleep(1100);
    const changed = await control(standIn, '/set-roles', { loginId: RICHARD.email, clientId: APP.clientId, roles: ['user', 'admin'] });
    assert.equal(changed.webhooks[0].type, 'user.registration.update');
    const { status, body } = await refresh(standIn.issuer, tokens.refresh_token);
    assert.equal(status, 200, JSON.stringify(body));
    const { header, payload } = decodeJwt(body.access_token);
    assert.deepEqual(header.gty, ['authorization_code', 'refresh_token']);
    assert.equal(payload.authenticationType, 'REFRESH_TOKEN');
    assert.equal(payload.auth_time, first.auth_time, 'auth_time does not change on refresh');
    assert.ok(payload.iat > first.iat);
    assert.equal(payload.sid, first.sid);
    assert.deepEqual(payload.roles, ['user', 'admin'], 'the new roles reach the next access token');
  });

  test('OneTimeUse: a new refresh token each time, the same id (sid); the old value gets FusionAuth\'s invalid_grant', async () => {
    await control(standIn, '/settings', { clientId: APP.clientId, refreshTokenUsagePolicy: 'OneTimeUse' });
    const { tokens } = await signIn(standIn.issuer);
    const rotated = await refresh(standIn.issuer, tokens.refresh_token);
    assert.equal(rotated.status, 200);
    assert.ok(rotated.body.refresh_token && rotated.body.refresh_token !== tokens.refresh_token);
    assert.equal(rotated.body.refresh_token_id, tokens.refresh_token_id);
    assert.equal(decodeJwt(rotated.body.access_token).payload.sid, tokens.refresh_token_id);

    const reused = await refresh(standIn.issuer, tokens.refresh_token);
    assert.equal(reused.status, 400);
    assert.deepEqual(reused.body, {
      error: 'invalid_grant', error_description: 'The refresh_token is invalid.', error_reason: 'refresh_token_not_found',
    });
    const next = await refresh(standIn.issuer, rotated.body.refresh_token);
    assert.equal(next.status, 200, 'only the reused value is refused (onOneTimeTokenReuse off)');
    assert.equal(decodeJwt(next.body.access_token).payload.sid, tokens.refresh_token_id);
  });

  test('Compatibility scope handling: email claims in the JWT, applicationId, roles and tid in userinfo', async () => {
    const settings = await control(standIn, '/settings', { clientId: APP.clientId, scopeHandlingPolicy: 'Compatibility' });
    assert.equal(settings.scopeHandlingPolicy, 'Compatibility');
    const { tokens } = await signIn(standIn.issuer);
    const { payload } = decodeJwt(tokens.access_token);
    assert.equal(payload.email, RICHARD.email);
    assert.equal(payload.email_verified, true);
    const info = await (await userinfo(standIn.issuer, tokens.access_token)).json();
    assert.equal(info.applicationId, APP.clientId);
    assert.deepEqual(info.roles, ['user']);
    assert.equal(info.tid, TENANT_ID);
  });
});
