// Several applications and users from the kickstart: registrations enforced as FusionAuth enforces
// them (requireRegistration, self-service registration), settings changed at run time through the
// control port and restored by POST /reset, and the kickstart's variables moved to other URLs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  APP, GILFOYLE, MONICA, OTHER, authorize, authorizeUrl, control, decodeJwt, exchange, followProvider, makeClient,
  signIn, useStandIn,
} from './testing.mjs';

/** Logs `credentials` in to `app` through the form; answers the final response (a page or the callback redirect). */
async function attemptLogin(c, credentials, app) {
  let res = await c.request(authorizeUrl(c.issuer, { app }).url);
  assert.equal(res.status, 200);
  res = await c.postForm('/oauth2/authorize', { loginId: credentials.email, password: credentials.password });
  return followProvider(c, res);
}

const REGISTRATION_REQUIRED = /<h1>Registration Required<\/h1>[\s\S]*your account has not been registered for this application/;

describe('applications and registrations from the kickstart', () => {
  const standIn = useStandIn();

  test('every kickstart application is a client with its own settings', async () => {
    const { applications } = await control(standIn, '/settings');
    assert.deepEqual(applications.map((a) => [a.name, a.requireRegistration, a.selfServiceRegistration]), [
      ['LeptosExampleApp', true, true], ['OtherExampleApp', true, false],
    ]);
    assert.deepEqual(applications[0].roles, ['user', 'admin']);
    assert.equal(applications[1].logoutURL, OTHER.logoutUrl);
    assert.deepEqual(applications.map((a) => a.scopeHandlingPolicy), ['Strict', 'Strict'], 'FusionAuth 1.50+ default');
    const { tokens } = await signIn(standIn.issuer, { app: OTHER });
    assert.equal(decodeJwt(tokens.access_token).payload.aud, OTHER.clientId);
    assert.deepEqual(decodeJwt(tokens.access_token).payload.roles, [], 'Richard\'s registration to the other app has no roles');
  });

  test('requireRegistration: a user without a registration gets FusionAuth\'s "Registration Required" page, no code', async () => {
    const c = makeClient(standIn.issuer);
    const res = await attemptLogin(c, GILFOYLE, OTHER);
    assert.equal(res.status, 200);
    assert.match(await res.text(), REGISTRATION_REQUIRED);
    // He did authenticate: his SSO session now skips the form, and is refused again.
    const again = await c.request(authorizeUrl(standIn.issuer, { app: OTHER }).url);
    assert.equal(again.status, 200);
    assert.match(await again.text(), REGISTRATION_REQUIRED);
  });

  test('an SSO session of a user registered elsewhere gets no code either', async () => {
    const { c } = await signIn(standIn.issuer, { credentials: MONICA, app: APP });
    const res = await c.request(authorizeUrl(standIn.issuer, { app: OTHER }).url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), REGISTRATION_REQUIRED);
  });

  test('requireRegistration off: the login goes through, tokens carry no applicationId and no roles', async () => {
    const settings = await control(standIn, '/settings', { clientId: OTHER.clientId, requireRegistration: false });
    assert.equal(settings.requireRegistration, false);
    const c = makeClient(standIn.issuer);
    const flow = await authorize(c, { credentials: GILFOYLE, app: OTHER });
    assert.equal(flow.callback.searchParams.get('userState'), 'AuthenticatedNotRegistered');
    const { body: tokens } = await exchange(standIn.issuer, flow);
    const { payload } = decodeJwt(tokens.access_token);
    assert.equal(payload.sub, GILFOYLE.id);
    assert.equal(payload.aud, OTHER.clientId);
    assert.ok(!('applicationId' in payload) && !('roles' in payload), JSON.stringify(payload));
  });

  test('self-service registration on: the login registers the user with the default role', async () => {
    const { flow, tokens } = await signIn(standIn.issuer, { credentials: GILFOYLE, app: APP });
    assert.equal(flow.callback.searchParams.get('userState'), 'Authenticated');
    const { payload } = decodeJwt(tokens.access_token);
    assert.equal(payload.applicationId, APP.clientId);
    assert.deepEqual(payload.roles, ['user']);
  });

  test('POST /reset restores the kickstart: settings and registrations', async () => {
    await control(standIn, '/settings', { clientId: APP.clientId, selfServiceRegistration: false, refreshTokenUsagePolicy: 'OneTimeUse' });
    const { applications } = await control(standIn, '/reset', {});
    assert.deepEqual(applications.map((a) => [a.requireRegistration, a.selfServiceRegistration, a.refreshTokenUsagePolicy]), [
      [true, true, 'Reusable'], [true, false, 'Reusable'],
    ]);
    // Gilfoyle's registration from the previous test is gone; with self-service registration off he is refused.
    await control(standIn, '/settings', { clientId: APP.clientId, selfServiceRegistration: false });
    const res = await attemptLogin(makeClient(standIn.issuer), GILFOYLE, APP);
    assert.match(await res.text(), REGISTRATION_REQUIRED);
    await control(standIn, '/reset', {});
  });

  test('POST /settings refuses what it cannot change', async () => {
    await control(standIn, '/settings', { clientId: APP.clientId, requireRegistration: 'no' }, { expect: 400 });
    await control(standIn, '/settings', { clientId: APP.clientId, logoutURL: 'http://evil.example/' }, { expect: 400 });
    await control(standIn, '/settings', { clientId: 'nope', requireRegistration: false }, { expect: 404 });
  });
});

describe('KICKSTART_VARIABLES: the same kickstart for another deployment', () => {
  const standIn = useStandIn({
    FUSIONAUTH_WEBHOOK_URL: '',
    KICKSTART_VARIABLES: JSON.stringify({ appUrl: 'http://app.test:5101', otherAppUrl: 'http://other.test:5103' }),
  });

  test('redirect URLs, logout URLs and the default webhook URL follow the overridden variables', async () => {
    const { applications } = await control(standIn, '/settings');
    assert.deepEqual(applications[0].redirectURLs, ['http://app.test:5101/callback', 'http://app.test:5101/logout']);
    assert.equal(applications[1].logoutURL, 'http://other.test:5103/logout');
    const { webhooks } = await control(standIn, '/health');
    assert.equal(webhooks[0].url, 'http://app.test:5101/webhooks/fusionauth');

    const app = { ...APP, redirectUri: 'http://app.test:5101/callback' };
    const { tokens } = await signIn(standIn.issuer, { app });
    assert.ok(tokens.access_token);
    const res = await makeClient(standIn.issuer).request(authorizeUrl(standIn.issuer).url);
    assert.equal(res.status, 400, 'the kickstart file\'s localhost redirect URL is no longer authorized');
    assert.match(await res.text(), /redirect_uri/);
  });
});
