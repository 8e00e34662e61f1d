// prompt=login and max_age as FusionAuth 1.60+ honours them: the login form shows even with an
// SSO session, and the new ID token and access token carry the new sign-in's auth_time;
// prompt=none without an SSO session answers login_required with FusionAuth's error_reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  APP, authorize, authorizeUrl, decodeJwt, exchange, location, makeClient, sleep, useStandIn,
} from './testing.mjs';

/** auth_time of the ID token and of the access token of a finished `flow`. */
async function authTimes(issuer, flow) {
  const { status, body } = await exchange(issuer, flow);
  assert.equal(status, 200, JSON.stringify(body));
  return { id: decodeJwt(body.id_token).payload.auth_time, access: decodeJwt(body.access_token).payload.auth_time };
}

describe('prompt=login and max_age', () => {
  const standIn = useStandIn();

  test('prompt=login shows the form despite the SSO session; auth_time is the new sign-in', async () => {
    const c = makeClient(standIn.issuer);
    const first = await authTimes(standIn.issuer, await authorize(c));
    assert.equal(first.access, first.id);
    await sleep(1100);

    const sso = await authTimes(standIn.issuer, await authorize(c, { expectForm: false }));
    assert.equal(sso.id, first.id, 'without prompt=login the SSO session is reused, auth_time unchanged');

    const again = await authorize(c, { extra: { prompt: 'login' } });
    assert.match(again.loginPageHtml, /id="loginId"/);
    const fresh = await authTimes(standIn.issuer, again);
    assert.ok(fresh.id > first.id, `auth_time ${fresh.id} after ${first.id}`);
    assert.equal(fresh.access, fresh.id, 'the access token carries the same auth_time');
  });

  test('max_age: an older sign-in asks again, a recent one does not; max_age=0 is prompt=login', async () => {
    const c = makeClient(standIn.issuer);
    const first = await authTimes(standIn.issuer, await authorize(c));
    const recent = await authTimes(standIn.issuer, await authorize(c, { expectForm: false, extra: { max_age: '3600' } }));
    assert.equal(recent.id, first.id);

    await sleep(2100);
    const stepUp = await authorize(c, { extra: { max_age: '1' } });
    assert.ok(stepUp.loginPageHtml, 'the form is shown for a sign-in older than max_age');
    const fresh = await authTimes(standIn.issuer, stepUp);
    assert.ok(fresh.id > first.id && fresh.access === fresh.id);

    const zero = await authorize(c, { extra: { max_age: '0' } });
    assert.ok(zero.loginPageHtml, 'max_age=0 asks for the password like prompt=login');
  });

  test('prompt=none without an SSO session: login_required, with FusionAuth\'s error_reason', async () => {
    const res = await makeClient(standIn.issuer).request(authorizeUrl(standIn.issuer, { scope: 'openid', extra: { prompt: 'none' } }).url);
    assert.equal(res.status, 303);
    const callback = new URL(location(res));
    assert.equal(`${callback.origin}${callback.pathname}`, APP.redirectUri);
    assert.equal(callback.searchParams.get('error'), 'login_required');
    assert.equal(callback.searchParams.get('error_reason'), 'authentication_required');
    assert.equal(callback.searchParams.get('error_description'), 'The user is required to complete authentication.');
  });
});
